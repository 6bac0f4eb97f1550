/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Output for node_exporter's textfile collector (`--metrics-textfile PATH`, a `*.prom` file in
 * the collector's directory). The collector may read the file at any moment, so it must see
 * either the old content or the new, never a torn write; and iohazard must itself pass the
 * rename-durability rule it enforces on others.
 */
#ifndef IOH_METRICS_TEXTFILE_H
#define IOH_METRICS_TEXTFILE_H

#include <stddef.h>

/*
 * Replaces `path` with `data` atomically and durably: a uniquely named temp file in the same
 * directory (created O_EXCL|O_CLOEXEC, mode 0644), write, fsync, rename over `path`, fsync
 * the directory. Returns 0 or -errno; on failure the temp file is removed and `path` keeps
 * its previous content.
 */
int ioh_metrics_write_textfile(const char *path, const char *data, size_t len);

#endif
