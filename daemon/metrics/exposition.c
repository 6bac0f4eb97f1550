// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics/exposition.h"
#include "daemon/util/hash.h"
#include "daemon/util/log.h"
#include "daemon/util/string_table.h"
#include "daemon/util/strutil.h"
#include "daemon/util/utf8.h"

void ioh_expo_init(struct ioh_expo *x, struct strbuf *out)
{
	memset(x, 0, sizeof(*x));
	x->out = out;
}

/*
 * The spec allows [a-zA-Z_:][a-zA-Z0-9_:]*; we are stricter: colons belong to recording
 * rules, and promtool's lint flags camelCase, so only lower snake case is accepted.
 */
int ioh_expo_valid_metric_name(const char *name)
{
	size_t n;

	if (!name || !*name)
		return 0;
	n = strlen(name);
	if (n > IOH_EXPO_NAME_MAX - strlen("_bucket"))
		return 0;
	if (name[0] >= '0' && name[0] <= '9')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

/* Label names starting with "__" are reserved for Prometheus itself. */
int ioh_expo_valid_label_name(const char *name)
{
	if (!name || !*name || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	if (name[0] == '_' && name[1] == '_')
		return 0;
	if (strlen(name) > IOH_EXPO_NAME_MAX)
		return 0;
	for (const char *p = name; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
	}
	return 1;
}

void ioh_expo_put_double(struct strbuf *sb, double v)
{
	char buf[40];

	if (isnan(v)) {
		strbuf_puts(sb, "NaN");
		return;
	}
	if (isinf(v)) {
		strbuf_puts(sb, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* Shortest form that reads back as the same double: 0.1 stays "0.1", not
	 * "0.10000000000000001", and nothing is lost. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	strbuf_puts(sb, buf);
}

/* The `# TYPE` words; NULL for a type that has none (refused by ioh_expo_family()). */
static const char *const ioh_metric_type_table[] = {
    [IOH_METRIC_COUNTER] = "counter",
    [IOH_METRIC_GAUGE] = "gauge",
    [IOH_METRIC_HISTOGRAM] = "histogram",
};
IOH_DEFINE_STRING_TABLE_LOOKUP(ioh_metric_type, enum ioh_metric_type, NULL);

/* HELP text escapes only backslash and newline (a quote is literal there). */
static void put_help(struct strbuf *sb, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			strbuf_puts(sb, "\\\\");
		else if (*p == '\n')
			strbuf_puts(sb, "\\n");
		else
			strbuf_putc(sb, *p);
	}
}

/* Label values escape backslash, double quote and newline. The format is UTF-8 and
 * Prometheus rejects a scrape with an invalid label value, so bad bytes become U+FFFD. */
static void put_label_value(struct strbuf *sb, const char *v)
{
	size_t len = strlen(v);

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)v[i];
		size_t n;

		if (c == '\\') {
			strbuf_puts(sb, "\\\\");
			i++;
		} else if (c == '"') {
			strbuf_puts(sb, "\\\"");
			i++;
		} else if (c == '\n') {
			strbuf_puts(sb, "\\n");
			i++;
		} else if (c < 0x80) {
			strbuf_putc(sb, (char)c);
			i++;
		} else if ((n = utf8_valid_prefix(v + i, len - i)) > 0) {
			strbuf_append(sb, v + i, n);
			i += n;
		} else {
			strbuf_puts(sb, "\xef\xbf\xbd");
			i++;
		}
	}
}

int ioh_expo_family(struct ioh_expo *x, const char *name, enum ioh_metric_type type,
		    const char *help)
{
	const char *why = NULL;
	size_t len = name ? strlen(name) : 0;
	uint64_t h;

	x->family[0] = '\0';
	if (!ioh_expo_valid_metric_name(name))
		why = "not a lower snake case metric name";
	else if (!ioh_metric_type_to_string(type))
		why = "unknown metric type";
	else if (type == IOH_METRIC_COUNTER && !ioh_ends_with(name, len, "_total"))
		why = "a counter's name must end in _total";
	else if (type != IOH_METRIC_COUNTER && ioh_ends_with(name, len, "_total"))
		why = "only counters end in _total";
	else if (type == IOH_METRIC_HISTOGRAM &&
		 (ioh_ends_with(name, len, "_bucket") || ioh_ends_with(name, len, "_sum") ||
		  ioh_ends_with(name, len, "_count")))
		why = "a histogram's name must not end in _bucket, _sum or _count";
	else if (!help || !*help)
		why = "no HELP text";
	if (why) {
		x->errors++;
		log_error("metrics: family \"%s\" rejected: %s (programming error)",
			  name ? name : "(null)", why);
		return -EINVAL;
	}
	h = ioh_fnv1a_str(IOH_FNV1A_INIT, name);
	for (unsigned i = 0; i < x->n_seen; i++) {
		if (x->seen[i] == h) {
			x->errors++;
			log_error("metrics: family \"%s\" begun twice in one scrape (programming "
				  "error)",
				  name);
			return -EINVAL;
		}
	}
	if (x->n_seen == IOH_EXPO_FAMILIES_MAX) {
		x->errors++;
		log_error("metrics: more than %d families, \"%s\" left out (programming error)",
			  IOH_EXPO_FAMILIES_MAX, name);
		return -EINVAL;
	}
	x->seen[x->n_seen++] = h;
	snprintf(x->family, sizeof(x->family), "%s", name);
	x->type = type;
	strbuf_printf(x->out, "# HELP %s ", name);
	put_help(x->out, help);
	strbuf_printf(x->out, "\n# TYPE %s %s\n", name, ioh_metric_type_to_string(type));
	return 0;
}

/* Checks a sample's label set before anything of it is written, so a rejected sample leaves
 * no half line behind. */
static int check_sample(struct ioh_expo *x, bool histogram, const struct ioh_label *labels,
			size_t n_labels)
{
	const char *why = NULL;

	if (!x->family[0])
		why = "no open family (or it was rejected)";
	else if (histogram != (x->type == IOH_METRIC_HISTOGRAM))
		why = histogram ? "histogram sample in a counter or gauge family"
				: "plain sample in a histogram family";
	else if (n_labels && !labels)
		why = "labels missing";
	for (size_t i = 0; !why && i < n_labels; i++) {
		if (!ioh_expo_valid_label_name(labels[i].name))
			why = "invalid label name";
		else if (!labels[i].value)
			why = "NULL label value";
		else if (histogram && strcmp(labels[i].name, "le") == 0)
			why = "label \"le\" is reserved for histogram buckets";
		for (size_t j = 0; !why && j < i; j++)
			if (strcmp(labels[i].name, labels[j].name) == 0)
				why = "duplicate label name";
	}
	if (why) {
		x->errors++;
		log_error("metrics: sample of \"%s\" dropped: %s (programming error)",
			  x->family[0] ? x->family : "?", why);
		return -EINVAL;
	}
	return 0;
}

/* name{labels[,le="..."]} -- the value follows. */
static void put_series(struct ioh_expo *x, const char *suffix, const struct ioh_label *labels,
		       size_t n_labels, const double *le)
{
	struct strbuf *sb = x->out;

	strbuf_puts(sb, x->family);
	strbuf_puts(sb, suffix);
	if (n_labels || le) {
		strbuf_putc(sb, '{');
		for (size_t i = 0; i < n_labels; i++) {
			if (i)
				strbuf_putc(sb, ',');
			strbuf_puts(sb, labels[i].name);
			strbuf_puts(sb, "=\"");
			put_label_value(sb, labels[i].value);
			strbuf_putc(sb, '"');
		}
		if (le) {
			strbuf_puts(sb, n_labels ? ",le=\"" : "le=\"");
			ioh_expo_put_double(sb, *le);
			strbuf_putc(sb, '"');
		}
		strbuf_putc(sb, '}');
	}
	strbuf_putc(sb, ' ');
}

int ioh_expo_u64(struct ioh_expo *x, const struct ioh_label *labels, size_t n_labels,
		 uint64_t value)
{
	if (check_sample(x, false, labels, n_labels) < 0)
		return -EINVAL;
	put_series(x, "", labels, n_labels, NULL);
	strbuf_printf(x->out, "%" PRIu64 "\n", value);
	return 0;
}

int ioh_expo_double(struct ioh_expo *x, const struct ioh_label *labels, size_t n_labels,
		    double value)
{
	if (check_sample(x, false, labels, n_labels) < 0)
		return -EINVAL;
	put_series(x, "", labels, n_labels, NULL);
	ioh_expo_put_double(x->out, value);
	strbuf_putc(x->out, '\n');
	return 0;
}

/* Units are usually 1/N of a second (ns, us, ms): dividing by N is exact where multiplying by
 * the inexact 1e-9 is not (123456789 ns must read 0.123456789, not 0.12345678900000001). */
static double to_seconds(double units, double unit_seconds)
{
	double per_second = 1.0 / unit_seconds;

	if (per_second >= 1.0 && fabs(per_second - nearbyint(per_second)) < 1e-6 * per_second)
		return units / nearbyint(per_second);
	return units * unit_seconds;
}

int ioh_expo_log2_histogram(struct ioh_expo *x, const struct ioh_label *labels, size_t n_labels,
			    const uint64_t *buckets, size_t n_buckets, double unit_seconds,
			    uint64_t sum_units, uint64_t count)
{
	const double inf = INFINITY;
	uint64_t cumulative = 0;

	if (check_sample(x, true, labels, n_labels) < 0)
		return -EINVAL;
	if ((n_buckets && !buckets) || n_buckets > IOH_EXPO_LOG2_BUCKETS_MAX ||
	    !(unit_seconds > 0) || isinf(unit_seconds)) {
		x->errors++;
		log_error("metrics: histogram of \"%s\" dropped: bad buckets or unit (programming "
			  "error)",
			  x->family);
		return -EINVAL;
	}
	for (size_t i = 0; i < n_buckets; i++) {
		/* Values in slot i are below 2^(i+1) units, so all of them are <= that bound. */
		double le = to_seconds(ldexp(1.0, (int)i + 1), unit_seconds);

		cumulative += buckets[i];
		put_series(x, "_bucket", labels, n_labels, &le);
		strbuf_printf(x->out, "%" PRIu64 "\n", cumulative);
	}
	if (cumulative > count)
		count = cumulative;
	put_series(x, "_bucket", labels, n_labels, &inf);
	strbuf_printf(x->out, "%" PRIu64 "\n", count);
	put_series(x, "_sum", labels, n_labels, NULL);
	ioh_expo_put_double(x->out, to_seconds((double)sum_units, unit_seconds));
	strbuf_putc(x->out, '\n');
	put_series(x, "_count", labels, n_labels, NULL);
	strbuf_printf(x->out, "%" PRIu64 "\n", count);
	return 0;
}
