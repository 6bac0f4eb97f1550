// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel-to-daemon record sizes the rename storm's ring capacity is computed from.
 *
 *   abi_sizes
 *
 * Prints "key=value" lines: the ABI version, the fixed part of a rename record
 * (struct ioh_rename_event, header included) and, while the ABI still has one, the fixed
 * string area every rename reserved (IOH_RENAME_STRINGS_SIZE). bench/run.sh adds the
 * ring's own 8-byte record header and rounds to 8, as the kernel does.
 */
#include <stdio.h>

#include <linux/types.h>

#include "bpf/iohazard.h"

int main(void)
{
	printf("abi_version=%d\n", IOH_ABI_VERSION);
	printf("rename_struct_bytes=%zu\n", sizeof(struct ioh_rename_event));
#ifdef IOH_RENAME_STRINGS_SIZE
	printf("rename_fixed_strings_bytes=%d\n", (int)IOH_RENAME_STRINGS_SIZE);
#else
	printf("rename_fixed_strings_bytes=0\n");
#endif
	return 0;
}
