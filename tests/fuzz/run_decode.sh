#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fuzzes the kernel-record decoder with the correlator and finding formatters downstream.
# -max_len: two worst-case rename records (7.4 KiB each; typical ones are ~200 bytes) back to
# back, as one ring buffer poll.
. "$(dirname "$0")/lib.sh"
fuzz_run decode "fuzz record decoder" 15 16384 - -- \
	daemon/ingest/decode.c daemon/correlator/*.c daemon/detectors/*.c daemon/rules/*.c \
	daemon/util/jsonw.c daemon/util/strbuf.c daemon/util/utf8.c daemon/util/fsnames.c \
	daemon/util/duration.c \
	daemon/sinks/finding_format.c daemon/sinks/event_format.c daemon/stacks/*.c \
	tests/fuzz/fuzz_decode.c -ldw -lelf -lz
