// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the kernel record decoder. The input is a ring buffer's worth of
 * records, stepped through by each header's `size` as the daemon does. Every record is copied
 * to an allocation of exactly its claimed size so ASan catches any read past it. Decoded
 * events then go through a correlator with tiny caps (evictions, heap compaction) and the
 * findings through the JSON and text formatters, so hostile paths are exercised downstream.
 * Properties beyond "no crash, no leak": only 0, -EBADMSG and -ENOMSG are returned, and a
 * decoded event's strings are terminated inside the scratch buffers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/correlator/correlator.h"
#include "daemon/ingest/decode.h"
#include "daemon/sinks/finding_format.h"

static struct ioh_ruleset *rules;
static struct ioh_decode_scratch scratch;

static const char rules_text[] = "[rule rename-without-dir-fsync]\n"
				 "window = 1s\n"
				 "exclude = /tmp/*\n"
				 "[rule rename-unsynced-source]\n"
				 "[rule srv-renames]\n"
				 "detector = rename-without-dir-fsync\n"
				 "severity = critical\n"
				 "window = 10ms\n"
				 "include = /srv/*\n";

static void on_finding(const struct ioh_finding *f, void *ctx)
{
	struct strbuf sb;

	(void)ctx;
	strbuf_init(&sb);
	ioh_finding_json(f, 0, &sb);
	strbuf_reset(&sb);
	ioh_finding_text(f, 0, &sb);
	strbuf_free(&sb);
}

static bool inside(const char *s, const char *buf, size_t size)
{
	return s >= buf && s < buf + size && memchr(s, '\0', (size_t)(buf + size - s));
}

static void check_strings(const struct ioh_event *ev)
{
	const struct ioh_decode_scratch *s = &scratch;

	if (ev->type != IOH_EV_RENAME)
		return;
	if (ev->rename.new_path && !inside(ev->rename.new_path, s->new_path, sizeof(s->new_path)))
		abort();
	if (ev->rename.old_path && !inside(ev->rename.old_path, s->old_path, sizeof(s->old_path)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ioh_correlator_config cfg = {.max_inodes = 8, .max_pending = 4};
	struct ioh_correlator *c;
	uint64_t last_ts = 0;
	size_t off = 0;

	if (!rules) {
		struct ioh_rules_errors errors = {0};

		if (ioh_rules_load_buffer("fuzz.rules", rules_text, strlen(rules_text), &rules,
					  &errors) < 0)
			abort();
	}
	c = ioh_correlator_new(&cfg, rules, on_finding, NULL);
	if (!c)
		abort();

	while (size - off >= 4) {
		uint16_t rec_size;
		struct ioh_event ev;
		size_t len = size - off;
		uint8_t *rec;
		int r;

		memcpy(&rec_size, data + off + 2, sizeof(rec_size));
		/* A plausible record goes to the decoder in an allocation of exactly hdr.size
		 * bytes, so ASan catches a read past the record (ABI 2 records end at their
		 * last string). Otherwise the whole remainder goes, to exercise the size checks
		 * (hdr.size below the header or past the buffer). */
		if (rec_size >= sizeof(struct ioh_event_hdr) && rec_size <= len)
			len = rec_size;
		rec = malloc(len);
		if (!rec)
			abort();
		memcpy(rec, data + off, len);
		r = ioh_decode_record(rec, len, &ev, &scratch);
		free(rec);
		if (r != 0 && r != -EBADMSG && r != -ENOMSG)
			abort();
		if (r == 0) {
			if (ev.type == 0 || ev.type >= IOH_EV__KERNEL_MAX ||
			    ev.comm[IOH_COMM_LEN - 1])
				abort();
			check_strings(&ev);
			/* Occasional loss reports, as the daemon injects them between polls. */
			if (ev.pid % 7 == 3) {
				struct ioh_event loss = {.ts_ns = ev.ts_ns, .type = IOH_EV_LOSS};

				loss.loss.where = ev.tid % IOH_LOSS__MAX;
				loss.loss.count = 1;
				ioh_correlator_feed(c, &loss);
			}
			ioh_correlator_feed(c, &ev);
			if (ev.ts_ns > last_ts)
				last_ts = ev.ts_ns;
		}
		if (rec_size < sizeof(struct ioh_event_hdr) || rec_size > len)
			break; /* the ring buffer reader could not step past this one either */
		off += rec_size;
	}
	ioh_correlator_advance(c, last_ts);
	ioh_correlator_advance(c, UINT64_MAX);
	ioh_correlator_free(c);
	return 0;
}
