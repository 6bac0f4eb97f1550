#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fuzzes the rules parser; the shipped rules files join the seed corpus.
. "$(dirname "$0")/lib.sh"
FUZZ_EXTRA_SEEDS='rules/*.rules' fuzz_run rules "fuzz rules parser" 20 65536 tests/fuzz/rules.dict -- \
	daemon/rules/*.c daemon/correlator/severity.c tests/fuzz/fuzz_rules.c
