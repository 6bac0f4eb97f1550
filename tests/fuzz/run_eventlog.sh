#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fuzzes recorded-event payloads: decode, encode, decode must round-trip.
. "$(dirname "$0")/lib.sh"
fuzz_run eventlog "fuzz event recordings" 15 4096 - -- \
	daemon/record/eventlog.c tests/fuzz/fuzz_eventlog.c -lz
