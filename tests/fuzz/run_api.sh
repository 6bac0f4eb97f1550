#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fuzzes the API request parser (daemon/api/request.c). -max_len: the daemon never hands the
# parser more than one 64 KiB request line.
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2046 # pkg-config output is meant to split
fuzz_run api "fuzz API request parser" 15 65536 tests/fuzz/api.dict -- \
	$(pkg-config --cflags json-c) daemon/api/request.c tests/fuzz/fuzz_api.c \
	$(pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
