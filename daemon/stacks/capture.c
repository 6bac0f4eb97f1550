// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capture glue (issue 15): the kernel's mapping hints of a STACK event whose task exited before
 * /proc/PID/maps could be read (`mv` is gone within microseconds). The hint names the file by
 * its path inside the task's mount namespace and by (dev, ino); the file at that path here
 * stands in for it only if it is that very inode. Its build id and ELF address are read then,
 * so the unwinder (which trusts a module only by build id) can use it, and a replay can check
 * its own copy against the build id.
 */
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/stacks/capture.h"

static void fill_from_elf(Elf *elf, struct ioh_stack_module *m)
{
	const void *id = NULL;
	ssize_t idlen = dwelf_elf_gnu_build_id(elf, &id);
	size_t phnum;

	if (idlen > 0) {
		if (idlen > IOH_STACK_BUILD_ID_MAX)
			idlen = IOH_STACK_BUILD_ID_MAX;
		memcpy(m->build_id, id, (size_t)idlen);
		m->build_id_len = (uint8_t)idlen;
	}
	if (elf_getphdrnum(elf, &phnum) != 0)
		return;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (m->pgoff >= (ph.p_offset & ~4095ull) && m->pgoff < ph.p_offset + ph.p_filesz) {
			m->vaddr = ph.p_vaddr - ph.p_offset + m->pgoff;
			m->vaddr_known = true;
			return;
		}
	}
}

bool ioh_stack_hint_fill(struct ioh_stack_module *m)
{
	struct stat st;
	Elf *elf;
	int fd;

	if (!m->path || m->path[0] != '/')
		return false;
	fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_ino != m->ino ||
	    (uint64_t)st.st_dev != m->dev) {
		close(fd); /* another file by now, or another namespace's: never a stand-in */
		return false;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf)
		fill_from_elf(elf, m);
	elf_end(elf);
	close(fd);
	return m->build_id_len > 0;
}
