#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# No function outside tests/ runs over 80 lines unless a comment above it says why
# ("Long because ..."): see function_lengths.py.
set -u
cd "${IOH_SRC:?}"
exec python3 tests/lint/function_lengths.py --limit 80 \
	$(git ls-files '*.c' '*.h' | grep -v -e '^tests/' -e '/vmlinux/')
