/* SPDX-License-Identifier: GPL-2.0-only */
/* Names for kernel identifiers: filesystem magic numbers, cgroup paths to systemd units,
 * kernel dev_t encoding. */
#ifndef IOH_FSNAMES_H
#define IOH_FSNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "ext4", "xfs", ... for a super_block.s_magic, or NULL when unknown. ext2/3/4 share a magic
 * and are all reported as "ext4" (the driver that mounts all three on current kernels). */
const char *ioh_fstype_from_magic(uint32_t magic);
/* The reverse, for fstype names from a mount table (mountinfo); 0 when unknown. */
uint32_t ioh_fstype_magic_from_name(const char *name);

/*
 * True for file systems the resolver must not look names up on: a lookup may wait on a
 * server or another process (fuse and its subtypes, nfs, cifs, ceph, 9p, afs, autofs
 * triggers), or the type is a kernel interface where no durable-rename finding can arise
 * (proc, sysfs, cgroup, debugfs, ...). Local persistent types and tmpfs are looked up.
 */
bool ioh_fstype_skip_resolve(const char *name);

/*
 * The systemd unit a cgroup belongs to: the deepest path component that looks like a unit
 * (".service", ".scope", ".socket", ".mount", ".swap", ".slice" last). Writes "" when none.
 */
void ioh_unit_from_cgroup(const char *cgroup, char *unit, size_t size);

/* Kernel dev_t (major << 20 | minor) from/to user space's. */
uint32_t ioh_kdev_from_user(dev_t dev);
uint32_t ioh_kdev_make(unsigned major, unsigned minor);
static inline unsigned ioh_kdev_major(uint32_t kdev)
{
	return kdev >> 20;
}
static inline unsigned ioh_kdev_minor(uint32_t kdev)
{
	return kdev & 0xfffff;
}

#endif
