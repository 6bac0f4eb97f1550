// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/service/privileges.h"
#include "daemon/util/log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static const struct {
	int cap;
	const char *name;
} kept_caps[] = {
    {CAP_BPF, "cap_bpf"},
    {CAP_PERFMON, "cap_perfmon"},
    {CAP_SYS_ADMIN, "cap_sys_admin"},
    {CAP_DAC_READ_SEARCH, "cap_dac_read_search"},
    {CAP_SYS_PTRACE, "cap_sys_ptrace"},
};

/* A feature test, not a version check: the kernel knows CAP_BPF when it is a valid bit of
 * the bounding set. */
static int kernel_has_cap_bpf(void)
{
	return prctl(PR_CAPBSET_READ, CAP_BPF, 0, 0, 0) >= 0;
}

static int perf_event_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int level = 2;

	if (f) {
		if (fscanf(f, "%d", &level) != 1)
			level = 2;
		fclose(f);
	}
	return level;
}

uint64_t ioh_capabilities_keep_mask(bool runtime_perf_events)
{
	uint64_t mask = (1ull << CAP_DAC_READ_SEARCH) | (1ull << CAP_SYS_PTRACE);

	if (kernel_has_cap_bpf())
		mask |= (1ull << CAP_BPF) | (1ull << CAP_PERFMON);
	else
		mask |= 1ull << CAP_SYS_ADMIN;
	/* Measured in the 6.1 VM: with paranoid 3 the on-demand kprobe attach got EACCES once
	 * CAP_SYS_ADMIN was gone. */
	if (runtime_perf_events && perf_event_paranoid() > 2)
		mask |= 1ull << CAP_SYS_ADMIN;
	return mask;
}

int ioh_check_bpf_capabilities(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0; /* cannot tell: let the loader find out */
	eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	if ((eff & (1ull << CAP_SYS_ADMIN)) ||
	    ((eff & (1ull << CAP_BPF)) && (eff & (1ull << CAP_PERFMON))))
		return 0;
	log_error("iohazardd needs root, or CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels "
		  "before 5.8), to load its BPF programs; it has %s",
		  (eff & (1ull << CAP_BPF))	  ? "CAP_BPF without CAP_PERFMON"
		  : (eff & (1ull << CAP_PERFMON)) ? "CAP_PERFMON without CAP_BPF"
						  : "neither");
	return -EPERM;
}

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int ioh_drop_capabilities(char *kept, size_t size, bool runtime_perf_events)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	uint64_t keep = ioh_capabilities_keep_mask(runtime_perf_events), permitted;
	size_t len = 0;
	int threads = count_threads();

	if (kept && size)
		kept[0] = '\0';
	if (syscall(SYS_capget, &hdr, data) < 0)
		return log_error_errno(-errno, "Failed to read capabilities: %m");
	permitted = ((uint64_t)data[1].permitted << 32 | data[0].permitted) & keep;

	/* The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. Under
	 * the shipped unit the bounding set is already this small, and without CAP_SETPCAP
	 * this is skipped. */
	for (int cap = 0; cap < 64; cap++) {
		if (keep & (1ull << cap))
			continue;
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0)
			continue; /* not a capability on this kernel, or already dropped */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			log_warning_errno(-errno,
					  "Failed to drop capability %d from the bounding "
					  "set: %m",
					  cap);
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)permitted;
	data[1].effective = data[1].permitted = (uint32_t)(permitted >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return log_error_errno(-errno, "Failed to drop capabilities: %m");
	if (threads > 1)
		log_warning("Capabilities dropped in the main thread only; %d threads were running",
			    threads);

	for (size_t i = 0; kept && i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++) {
		if (len >= size)
			break;
		if (!(permitted & (1ull << kept_caps[i].cap)))
			continue;
		len += (size_t)snprintf(kept + len, size - len, "%s%s", len ? "," : "",
					kept_caps[i].name);
	}
	log_debug("Capabilities kept: %s", kept && kept[0] ? kept : "none");
	return 0;
}
