/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A writer for the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), onto a strbuf.
 *
 * Pull model: the daemon renders every family from its live counters at scrape time; there is
 * no registry to keep in sync. A render is a sequence of
 *
 *	ioh_expo_family(x, name, type, help);   HELP and TYPE, once per family
 *	ioh_expo_u64(x, labels, n, value);      one sample per label set
 *	...
 *
 * Names are checked, not trusted: a bad metric or label name, a counter without `_total`, a
 * family begun twice, or a sample outside a family is a programming error. It is logged, the
 * offending family or sample is left out, and x->errors counts it, so a bug in the daemon
 * costs one metric rather than a scrape Prometheus cannot parse.
 */
#ifndef IOH_METRICS_EXPOSITION_H
#define IOH_METRICS_EXPOSITION_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/util/strbuf.h"

/* The Content-Type of what this writer produces. */
#define IOH_EXPO_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Longest metric name, suffix included; ours are far shorter. */
#define IOH_EXPO_NAME_MAX 128
/* Families one render may begin; the duplicate check remembers this many. */
#define IOH_EXPO_FAMILIES_MAX 128
/* Log2 buckets a histogram may have: bucket 63 already ends at 2^64 units. */
#define IOH_EXPO_LOG2_BUCKETS_MAX 64

enum ioh_metric_type {
	IOH_METRIC_COUNTER,
	IOH_METRIC_GAUGE,
	IOH_METRIC_HISTOGRAM,
};

/* "counter", "gauge", "histogram" (the `# TYPE` word); NULL for another value. */
const char *ioh_metric_type_to_string(enum ioh_metric_type type);
int ioh_metric_type_from_string(const char *s);

struct ioh_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
	const char *value; /* any bytes: escaped, invalid UTF-8 replaced by U+FFFD */
};

/* IOH_LABELS({"rule", r}, {"severity", s}) expands to the two arguments `labels, n_labels`. */
#define IOH_LABELS(...)                                                                            \
	((const struct ioh_label[]){__VA_ARGS__}),                                                 \
	    (sizeof((const struct ioh_label[]){__VA_ARGS__}) / sizeof(struct ioh_label))
#define IOH_NO_LABELS NULL, 0

struct ioh_expo {
	struct strbuf *out;
	/* The family samples go to; empty when none is open or the last one was rejected. */
	char family[IOH_EXPO_NAME_MAX + 1];
	enum ioh_metric_type type;
	/* FNV-1a hashes of the families begun so far: a second HELP/TYPE for one name makes
	 * the whole scrape unparseable, so it is refused. */
	uint64_t seen[IOH_EXPO_FAMILIES_MAX];
	unsigned n_seen;
	/* Programming errors met (each logged once, where it happened). */
	unsigned errors;
};

void ioh_expo_init(struct ioh_expo *x, struct strbuf *out);

/*
 * Begins a family: writes `# HELP` and `# TYPE`. Counters must be named `*_total`; gauges and
 * histograms must not be; histogram names must not end in `_bucket`, `_sum` or `_count`.
 * Names are lower snake case ([a-z_][a-z0-9_]*). Returns 0 or -EINVAL; after a failure the
 * family's samples are dropped.
 */
int ioh_expo_family(struct ioh_expo *x, const char *name, enum ioh_metric_type type,
		    const char *help);

/* One counter or gauge sample in the open family. Returns 0 or -EINVAL. */
int ioh_expo_u64(struct ioh_expo *x, const struct ioh_label *labels, size_t n_labels,
		 uint64_t value);
int ioh_expo_double(struct ioh_expo *x, const struct ioh_label *labels, size_t n_labels,
		    double value);

/*
 * One histogram (a label set of the open histogram family) from kernel log2 slots: buckets[i]
 * counts values in [2^i, 2^(i+1)) units (slot 0 also holds 0), so `le` of bucket i is
 * 2^(i+1) * unit_seconds, written cumulative, then `le="+Inf"`, `_sum` (sum_units *
 * unit_seconds) and `_count`. `count` may exceed the buckets' total (values past the last
 * slot); when the slots, read unlocked from the kernel, add up to more than `count`, their
 * total is used instead so `+Inf` and `_count` never fall below a finite bucket.
 */
int ioh_expo_log2_histogram(struct ioh_expo *x, const struct ioh_label *labels, size_t n_labels,
			    const uint64_t *buckets, size_t n_buckets, double unit_seconds,
			    uint64_t sum_units, uint64_t count);

/* Checks used by the writer, exported for tests. */
int ioh_expo_valid_metric_name(const char *name);
int ioh_expo_valid_label_name(const char *name);
/* A float as Prometheus reads it: shortest round-trip form, "+Inf", "-Inf", "NaN". */
void ioh_expo_put_double(struct strbuf *sb, double v);

#endif
