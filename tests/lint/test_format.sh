#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every C file of the tree is as .clang-format lays it out (`make format` fixes it): one
# "ok"/"not ok" line per file, the first lines of the difference under a failing one.
set -u
cd "${IOH_SRC:?}"
command -v clang-format >/dev/null || { echo "not ok - clang-format is not installed (make deps)"; exit 1; }
rc=0
for f in $(git ls-files '*.c' '*.h' | grep -v '/vmlinux/'); do
	if out=$(clang-format --dry-run --Werror "$f" 2>&1); then
		echo "ok - format $f"
	else
		echo "not ok - format $f (make format)"
		printf '%s\n' "$out" | head -6 | sed 's/^/#   /'
		rc=1
	fi
done
exit $rc
