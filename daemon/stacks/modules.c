// SPDX-License-Identifier: GPL-2.0-only
/*
 * The executable file mappings of a task, read at the STACK event while the task (most often)
 * still lives: what the unwinder needs later, when the process may be gone. Per mapping: the
 * address range, file offset, dev/ino, the path as the task names it, and from the file itself
 * its GNU build id and the ELF virtual address mapped at the range start (the load bias).
 *
 * Only the executable mappings are kept: the load bias comes from the file's program headers
 * (segment containing pgoff), so the read-only and data segments add nothing the unwinder
 * uses, and the snapshot stays small (a typical dynamically linked program: 3-8 modules).
 *
 * The file is opened through /proc/PID/map_files/<start>-<end> (the mapped inode itself, even
 * deleted or replaced on disk; needs CAP_SYS_ADMIN) and else through /proc/PID/root/<path>
 * (containers: the task's own root, never the host path). Parsing ELF notes per event would
 * make a rename storm cost one open + ELF read per module per rename: the result is cached by
 * (dev, ino, size, mtime) of the opened file, so a hit costs one stat().
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>

#include "daemon/stacks/stack.h"

#define SEGS_MAX 8     /* PT_LOAD segments remembered per file */
#define CACHE_SETS 256 /* build-id cache: CACHE_SETS x CACHE_WAYS files */
#define CACHE_WAYS 4

struct elf_seg {
	uint64_t offset, filesz, vaddr;
};

struct file_info {
	/* key */
	uint64_t dev, ino, size;
	int64_t mtime_ns;
	/* value */
	uint8_t build_id[IOH_STACK_BUILD_ID_MAX];
	uint8_t build_id_len;
	uint8_t n_segs;
	bool is_elf;
	struct elf_seg segs[SEGS_MAX];
	uint64_t used; /* LRU clock; 0 = empty slot */
};

static struct {
	pthread_mutex_t lock;
	uint64_t clock;
	struct file_info slots[CACHE_SETS][CACHE_WAYS];
	struct ioh_stack_modules_stats st;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

void ioh_stack_modules_stats(struct ioh_stack_modules_stats *st)
{
	pthread_mutex_lock(&cache.lock);
	*st = cache.st;
	pthread_mutex_unlock(&cache.lock);
}

void ioh_stack_build_id_hex(const uint8_t *id, unsigned len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	if (len > IOH_STACK_BUILD_ID_MAX)
		len = IOH_STACK_BUILD_ID_MAX;
	for (unsigned i = 0; i < len; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Reads the build id and PT_LOAD segments of the ELF file at fd into `fi`'s value. */
static void file_info_read(int fd, struct file_info *fi)
{
	Elf *elf;
	size_t phnum;

	fi->is_elf = false;
	fi->build_id_len = 0;
	fi->n_segs = 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return;
	if (elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &phnum) != 0)
		goto out;
	fi->is_elf = true;
	for (size_t i = 0; i < phnum && fi->n_segs < SEGS_MAX; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		fi->segs[fi->n_segs++] = (struct elf_seg){ph.p_offset, ph.p_filesz, ph.p_vaddr};
	}
	const void *id;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
	if (n > 0) {
		if (n > IOH_STACK_BUILD_ID_MAX)
			n = IOH_STACK_BUILD_ID_MAX;
		memcpy(fi->build_id, id, (size_t)n);
		fi->build_id_len = (uint8_t)n;
	}
out:
	elf_end(elf);
}

/*
 * The file info for the file at `path` (already known to be the mapped one): from the cache
 * when (dev, ino, size, mtime) match, else read and cached. Returns false when the file cannot
 * be opened. Called with cache.lock held around the cache parts only.
 */
static bool file_info_get(const char *path, struct file_info *out)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) != 0)
		return false;
	uint64_t h = ((uint64_t)sb.st_dev * 0x9e3779b97f4a7c15ull) ^ (uint64_t)sb.st_ino;
	h ^= h >> 29;
	struct file_info *set = cache.slots[h % CACHE_SETS];
	int64_t mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;

	pthread_mutex_lock(&cache.lock);
	cache.st.lookups++;
	for (int w = 0; w < CACHE_WAYS; w++) {
		struct file_info *fi = &set[w];

		if (fi->used && fi->dev == (uint64_t)sb.st_dev && fi->ino == (uint64_t)sb.st_ino &&
		    fi->size == (uint64_t)sb.st_size && fi->mtime_ns == mtime_ns) {
			fi->used = ++cache.clock;
			cache.st.hits++;
			*out = *fi;
			pthread_mutex_unlock(&cache.lock);
			return true;
		}
	}
	pthread_mutex_unlock(&cache.lock);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	memset(out, 0, sizeof(*out));
	out->dev = (uint64_t)sb.st_dev;
	out->ino = (uint64_t)sb.st_ino;
	out->size = (uint64_t)sb.st_size;
	out->mtime_ns = mtime_ns;
	file_info_read(fd, out);
	close(fd);

	pthread_mutex_lock(&cache.lock);
	struct file_info *victim = &set[0];
	for (int w = 1; w < CACHE_WAYS; w++)
		if (set[w].used < victim->used)
			victim = &set[w];
	if (victim->used)
		cache.st.evictions++;
	*victim = *out;
	victim->used = ++cache.clock;
	pthread_mutex_unlock(&cache.lock);
	return true;
}

/* Fills `m`'s build id and vaddr from the mapped file; false when it cannot be opened. */
static bool module_fill_from_file(pid_t pid, struct ioh_stack_module *m, const char *path)
{
	char p[4096 + 64];
	struct file_info fi;

	snprintf(p, sizeof(p), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		 m->end);
	if (!file_info_get(p, &fi)) {
		snprintf(p, sizeof(p), "/proc/%d/root%s", (int)pid, path);
		if (!file_info_get(p, &fi))
			return false;
		/* Through the root, the path may name another file than the mapped one (replaced
		 * since): only the mapped inode's data may be used. */
		if (fi.ino != m->ino)
			return false;
	}
	memcpy(m->build_id, fi.build_id, fi.build_id_len);
	m->build_id_len = fi.build_id_len;
	for (unsigned i = 0; i < fi.n_segs; i++) {
		const struct elf_seg *s = &fi.segs[i];

		/* The segment holding file offset pgoff; a zero-size segment holds nothing. */
		if (m->pgoff >= (s->offset & ~4095ull) && m->pgoff < s->offset + s->filesz) {
			m->vaddr = s->vaddr - s->offset + m->pgoff;
			m->vaddr_known = true;
			break;
		}
	}
	return true;
}

int ioh_stack_modules_read(pid_t pid, struct ioh_stack_module *out, size_t max, char **strings)
{
	char path[64], line[4096 + 256];
	char *buf = NULL;
	size_t buf_len = 0, buf_cap = 0, n = 0;
	FILE *f;

	*strings = NULL;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (n < max && fgets(line, sizeof(line), f)) {
		uint64_t start, end, pgoff, ino;
		unsigned maj, min;
		char perms[8];
		int pos = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &start, &end, perms, &pgoff, &maj, &min, &ino, &pos) < 7 ||
		    pos == 0)
			continue;
		char *name = line + pos;
		size_t len = strcspn(name, "\n");

		name[len] = '\0';
		if (perms[2] != 'x' || name[0] != '/' || ino == 0)
			continue; /* not executable, or not file-backed ([vdso], anonymous JIT) */
		static const char deleted[] = " (deleted)";
		if (len >= sizeof(deleted) - 1 &&
		    strcmp(name + len - (sizeof(deleted) - 1), deleted) == 0)
			name[len -= sizeof(deleted) - 1] = '\0';

		if (buf_len + len + 1 > buf_cap) {
			size_t cap = buf_cap ? buf_cap * 2 : 1024;
			while (cap < buf_len + len + 1)
				cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			buf_cap = cap;
		}
		memcpy(buf + buf_len, name, len + 1);

		struct ioh_stack_module *m = &out[n++];
		memset(m, 0, sizeof(*m));
		m->start = start;
		m->end = end;
		m->pgoff = pgoff;
		m->dev = makedev(maj, min);
		m->ino = ino;
		m->path = (const char *)(uintptr_t)buf_len; /* fixed up below: buf may move */
		buf_len += len + 1;
		if (!module_fill_from_file(pid, m, name)) {
			pthread_mutex_lock(&cache.lock);
			cache.st.unreadable++;
			pthread_mutex_unlock(&cache.lock);
		}
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		out[i].path = buf + (uintptr_t)out[i].path;
	if (n == 0) {
		free(buf);
		buf = NULL;
		/* A task that exited between open and read shows an empty maps file. */
		if (kill(pid, 0) != 0 && errno == ESRCH)
			return -ESRCH;
	}
	*strings = buf;
	return (int)n;
}
