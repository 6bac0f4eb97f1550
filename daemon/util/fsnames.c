// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <sys/sysmacros.h>

#include "daemon/util/fsnames.h"
#include "daemon/util/strutil.h"

static const struct {
	uint32_t magic;
	const char *name;
} fs_magics[] = {
    /* Values from include/uapi/linux/magic.h and the filesystems' own headers. */
    {0xEF53, "ext4"},
    {0x58465342, "xfs"},
    {0x9123683E, "btrfs"},
    {0xF2F52010, "f2fs"},
    {0x3153464a, "jfs"},
    {0x52654973, "reiserfs"},
    {0x3434, "nilfs2"},
    {0xca451a4e, "bcachefs"},
    {0x2fc12fc1, "zfs"},
    {0x7461636f, "ocfs2"},
    {0x01161970, "gfs2"},
    {0x4d44, "vfat"},
    {0x2011BAB0, "exfat"},
    {0x5346544e, "ntfs3"},
    {0x01021994, "tmpfs"},
    {0x858458f6, "ramfs"},
    {0x9fa0, "proc"},
    {0x62656572, "sysfs"},
    {0x27e0eb, "cgroup"},
    {0x63677270, "cgroup2"},
    {0x1373, "devtmpfs"},
    {0x794c7630, "overlay"},
    {0x65735546, "fuse"},
    {0x6969, "nfs"},
    {0xFF534D42, "cifs"},
    {0x00c36400, "ceph"},
    {0x73717368, "squashfs"},
    {0x9660, "iso9660"},
    {0x64626720, "debugfs"},
    {0x74726163, "tracefs"},
    {0xcafe4a11, "bpf"},
    {0x73636673, "securityfs"},
    {0x6165676C, "pstore"},
    {0x62656570, "configfs"},
    {0x19800202, "mqueue"},
    {0x958458f6, "hugetlbfs"},
    {0x0187, "autofs"},
    {0x1cd1, "devpts"},
    {0xde5e81e4, "efivarfs"},
    {0x50495045, "pipefs"},
    {0x534F434B, "sockfs"},
    {0x09041934, "anon_inodefs"},
    {0x42494e4d, "binfmt_misc"},
    {0x6e736673, "nsfs"},
};

const char *ioh_fstype_from_magic(uint32_t magic)
{
	for (size_t i = 0; i < sizeof(fs_magics) / sizeof(fs_magics[0]); i++)
		if (fs_magics[i].magic == magic)
			return fs_magics[i].name;
	return NULL;
}

uint32_t ioh_fstype_magic_from_name(const char *name)
{
	/* mountinfo says ext2/ext3 where the magic cannot tell them apart. */
	if (strcmp(name, "ext2") == 0 || strcmp(name, "ext3") == 0)
		return 0xEF53;
	for (size_t i = 0; i < sizeof(fs_magics) / sizeof(fs_magics[0]); i++)
		if (strcmp(fs_magics[i].name, name) == 0)
			return fs_magics[i].magic;
	if (strncmp(name, "fuse", 4) == 0)
		return 0x65735546;
	return 0;
}

bool ioh_fstype_skip_resolve(const char *name)
{
	static const char *const skip[] = {
	    /* a lookup waits for a server or a user-space process */
	    "fuse",
	    "fuseblk",
	    "nfs",
	    "nfs4",
	    "cifs",
	    "smb3",
	    "smbfs",
	    "ceph",
	    "9p",
	    "afs",
	    "virtiofs",
	    "glusterfs",
	    "lustre",
	    "gfs2",
	    "ocfs2",
	    "autofs",
	    "davfs",
	    "sshfs",
	    /* kernel interfaces: nothing there needs a durable rename */
	    "proc",
	    "sysfs",
	    "cgroup",
	    "cgroup2",
	    "debugfs",
	    "tracefs",
	    "securityfs",
	    "pstore",
	    "configfs",
	    "devpts",
	    "mqueue",
	    "bpf",
	    "efivarfs",
	    "binfmt_misc",
	    "fusectl",
	    "rpc_pipefs",
	    "nfsd",
	    "nsfs",
	    "hugetlbfs",
	};

	if (strncmp(name, "fuse.", 5) == 0)
		return true; /* fuse.sshfs, fuse.gvfsd-fuse, ... */
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcmp(name, skip[i]) == 0)
			return true;
	return false;
}

void ioh_unit_from_cgroup(const char *cgroup, char *unit, size_t size)
{
	static const char *const unit_suffixes[] = {".service", ".scope", ".socket", ".mount",
						    ".swap"};
	const char *best = NULL, *slice = NULL, *p = cgroup;
	size_t best_len = 0, slice_len = 0;

	if (size == 0)
		return;
	unit[0] = '\0';
	if (!cgroup)
		return;
	while (*p) {
		const char *start;
		size_t len;

		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (len == 0)
			break;
		for (size_t i = 0; i < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); i++) {
			if (ioh_ends_with(start, len, unit_suffixes[i])) {
				/* The first unit from the root wins: a service's sub-cgroups
				 * ("app.service/worker") still belong to the service. */
				if (!best) {
					best = start;
					best_len = len;
				}
			}
		}
		if (ioh_ends_with(start, len, ".slice")) {
			slice = start;
			slice_len = len;
		}
	}
	if (!best) {
		best = slice;
		best_len = slice_len;
	}
	if (best) {
		if (best_len >= size)
			best_len = size - 1;
		memcpy(unit, best, best_len);
		unit[best_len] = '\0';
	}
}

uint32_t ioh_kdev_make(unsigned major, unsigned minor)
{
	return (major << 20) | (minor & 0xfffff);
}

uint32_t ioh_kdev_from_user(dev_t dev)
{
	return ioh_kdev_make(major(dev), minor(dev));
}
