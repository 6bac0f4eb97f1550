// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for recorded-event payloads (daemon/record/eventlog.c), the part of
 * --replay that reads untrusted bytes. Beyond "no crash, no leak" it checks the round trip a
 * recording relies on: a payload that decodes re-encodes to the same bytes (up to the
 * reserved field and comm's forced final NUL, which the reader normalises) and decodes again
 * to an equal event.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/record/eventlog.h"

/* Offsets in the payload (docs/record-format.md): reserved u16 at 2, comm at 32..47. */
#define RESERVED_OFF 2
#define COMM_LAST_OFF (32 + IOH_COMM_LEN - 1)

#include "tests/unit/event_equal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[IOH_EVENTLOG_RECORD_MAX];
	struct ioh_event ev, again;
	uint8_t *in;
	int r, n;

	if (size > IOH_EVENTLOG_RECORD_MAX)
		return 0; /* the file reader refuses longer records before decoding */
	/* An exact-size copy: ASan flags any read past the payload. */
	in = malloc(size ? size : 1);
	if (!in)
		abort();
	memcpy(in, data, size);
	r = ioh_eventlog_decode_payload(in, (uint32_t)size, &ev);
	if (r != 0 && r != -EBADMSG && r != -ENOMSG)
		abort();
	if (r == 0) {
		n = ioh_eventlog_encode_payload(&ev, out, sizeof(out));
		if (n < 0 || (size_t)n != size)
			abort();
		for (size_t i = 0; i < size; i++) {
			if (i == RESERVED_OFF || i == RESERVED_OFF + 1)
				continue;
			if (i == COMM_LAST_OFF && out[i] == 0)
				continue;
			if (out[i] != in[i])
				abort();
		}
		if (ioh_eventlog_decode_payload(out, (uint32_t)n, &again) != 0 ||
		    !events_equal(&ev, &again))
			abort();
	}
	free(in);
	return 0;
}
