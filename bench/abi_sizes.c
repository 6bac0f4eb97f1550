// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel-to-daemon record sizes the rename storm's ring capacity is computed from.
 *
 *   abi_sizes
 *
 * Prints "key=value" lines: the ABI version, the fixed part of a rename record
 * (struct ioh_rename_event, header included), the fixed string area every rename reserved
 * while the ABI had one (IOH_RENAME_STRINGS_SIZE, ABI 1; 0 after), and the most string bytes
 * a rename can carry (the same area under ABI 1, IOH_RENAME_STRINGS_MAX under ABI 2: a
 * worst-case record). bench/run.sh adds the ring's own 8-byte record header and rounds to 8,
 * as the kernel does.
 */
#include <stdio.h>

#include <linux/types.h>

#include "bpf/iohazard.h"

int main(void)
{
	printf("abi_version=%d\n", IOH_ABI_VERSION);
	printf("rename_struct_bytes=%zu\n", sizeof(struct ioh_rename_event));
#ifdef IOH_RENAME_STRINGS_SIZE
	/* ABI 1: every rename reserved the whole string area. */
	printf("rename_fixed_strings_bytes=%d\n", (int)IOH_RENAME_STRINGS_SIZE);
	printf("rename_strings_max_bytes=%d\n", (int)IOH_RENAME_STRINGS_SIZE);
#else
	/* ABI 2: records carry the bytes they use; the maximum is the old fixed area. */
	printf("rename_fixed_strings_bytes=0\n");
	printf("rename_strings_max_bytes=%d\n", (int)IOH_RENAME_STRINGS_MAX);
#endif
	return 0;
}
