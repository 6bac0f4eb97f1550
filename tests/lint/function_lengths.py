#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Lists C functions longer than a limit (issue 16: "the longest function outside tests is under
about 80 lines, or its length is explained").

Kernel style (.clang-format, BreakBeforeBraces: Linux) puts a function's opening brace alone in
column 0 and its closing brace alone in column 0, so a function body is the lines between the
two. A function may be longer when the line right above its signature block (a comment) says
why, with the marker "Long because" -- the explanation is for the reader; this check only asks
that one exists.

Usage: function_lengths.py [--limit N] FILE...   prints TAP lines, one per file.
"""
import re
import sys

MARKER = "Long because"


def functions(lines):
    """Yields (name, first_line, length, explained) for each function of a C file."""
    i = 0
    while i < len(lines):
        if lines[i].rstrip("\n") == "{":
            # The signature: the lines above up to a blank line, a `}` or a comment end.
            j = i - 1
            while j >= 0 and lines[j].strip() and not lines[j].startswith(("}", " */", "*/")) \
                    and not lines[j].rstrip().endswith("*/"):
                j -= 1
            signature = "".join(lines[j + 1:i])
            m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", signature)
            name = m.group(1) if m else "?"
            # A comment ending right above the signature may hold the marker.
            k = j
            comment = []
            if k >= 0 and lines[k].rstrip().endswith("*/"):
                while k >= 0:
                    comment.append(lines[k])
                    if "/*" in lines[k]:
                        break
                    k -= 1
            explained = any(MARKER in c for c in comment)
            end = i + 1
            while end < len(lines) and not lines[end].startswith("}"):
                end += 1
            yield name, i + 1, end - i - 1, explained
            i = end
        i += 1


def main(argv):
    limit = 80
    if len(argv) > 1 and argv[0] == "--limit":
        limit = int(argv[1])
        argv = argv[2:]
    failed = 0
    for path in argv:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        long_ones = [(n, ln, length) for n, ln, length, ok in functions(lines)
                     if length > limit and not ok]
        if long_ones:
            failed += 1
            print(f"not ok - {path}: functions over {limit} lines without a '{MARKER}' comment")
            for n, ln, length in long_ones:
                print(f"#   {path}:{ln}: {n}() {length} lines")
        else:
            print(f"ok - {path}: no function over {limit} lines unexplained")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
