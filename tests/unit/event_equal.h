/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Equality of decoded events for round-trip tests: two events are equal when the recording
 * format encodes them to the same bytes. Every field a recording carries is compared, for
 * every event type, without a per-type list that falls behind when a type is added.
 */
#ifndef IOH_TEST_EVENT_EQUAL_H
#define IOH_TEST_EVENT_EQUAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "daemon/record/eventlog.h"

static bool events_equal(const struct ioh_event *a, const struct ioh_event *b)
{
	static uint8_t ea[IOH_EVENTLOG_RECORD_MAX], eb[IOH_EVENTLOG_RECORD_MAX];
	int na = ioh_eventlog_encode_payload(a, ea, sizeof(ea));
	int nb = ioh_eventlog_encode_payload(b, eb, sizeof(eb));

	return na >= 0 && na == nb && memcmp(ea, eb, (size_t)na) == 0;
}

#endif
