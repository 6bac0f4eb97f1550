#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The /metrics endpoint alone (daemon/metrics/http_server.c), no BPF: builds
# tests/e2e/metrics/harness.c, serves on 127.0.0.1:<free port> and checks the answers, the
# output against `promtool check metrics`, and that abusive clients neither stall a normal
# scrape nor grow the server's memory. Needs no root. Traffic only to 127.0.0.1; the only
# process stopped is the harness this script started, by pid.
# A && ok || fail: ok only echoes and cannot fail, so this is if-then-else.
# shellcheck disable=SC2015
set -u
here=$(cd "$(dirname "$0")" && pwd)
IOH_SRC=${IOH_SRC:-$(cd "$here/../.." && pwd)}
IOH_BUILD=${IOH_BUILD:-$IOH_SRC/build}
ABUSE="python3 $here/metrics/abuse.py"

failed=0
ok() { echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1: $(printf '%s' "${2:-}" | tr '\n' ' ' | cut -c1-800)"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ioh-metrics-e2e.XXXXXX")
harness=$IOH_BUILD/tests/metrics-harness
hpid=
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	if [ -n "$hpid" ] && kill -0 "$hpid" 2>/dev/null; then
		kill -TERM "$hpid"
		for _ in $(seq 30); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$hpid" 2>/dev/null && kill -KILL "$hpid"
		wait "$hpid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# ---- build ---------------------------------------------------------------------------------
mkdir -p "$(dirname "$harness")"
# shellcheck disable=SC2046 # pkg-config output is meant to split
if gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla \
	-Wno-format-truncation -D_GNU_SOURCE -I"$IOH_SRC" -o "$harness" \
	"$IOH_SRC/tests/e2e/metrics/harness.c" "$IOH_SRC/daemon/metrics/exposition.c" \
	"$IOH_SRC/daemon/metrics/http_server.c" "$IOH_SRC/daemon/metrics/textfile.c" \
	"$IOH_SRC/daemon/util/strbuf.c" "$IOH_SRC/daemon/util/log.c" "$IOH_SRC/daemon/util/utf8.c" \
	$(pkg-config --cflags --libs libmicrohttpd libsystemd) -lm 2>"$work/cc.log"; then
	ok "harness builds"
else
	fail "harness builds" "$(cat "$work/cc.log")"
	exit 1
fi

# ---- listen-address errors are clear, bind errors are errnos ---------------------------------
for bad in "garbage" "localhost:9478" "1.2.3:80" "::1:9478" "127.0.0.1:99999" "[::1]9478" ":"; do
	if "$harness" "$bad" >/dev/null 2>"$work/bad.err"; then
		fail "listen address \"$bad\" rejected" "harness started"
	elif grep -q "Invalid metrics listen address" "$work/bad.err"; then
		ok "listen address \"$bad\" rejected with a clear message"
	else
		fail "listen address \"$bad\" rejected with a clear message" "$(cat "$work/bad.err")"
	fi
done

# ---- start ---------------------------------------------------------------------------------
"$harness" 127.0.0.1:0 >"$work/out" 2>"$work/err" &
hpid=$!
port=
for _ in $(seq 50); do
	port=$(awk '/^port /{print $2}' "$work/out")
	[ -n "$port" ] && break
	kill -0 "$hpid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	fail "harness listens" "$(cat "$work/err")"
	exit 1
fi
ok "harness listens on 127.0.0.1:$port"
url=http://127.0.0.1:$port

if "$harness" "127.0.0.1:$port" >/dev/null 2>"$work/busy.err"; then
	fail "second bind on a busy port fails" "it started"
elif grep -q "Failed to bind the metrics endpoint to 127.0.0.1:$port: Address already in use" \
	"$work/busy.err"; then
	ok "second bind on a busy port fails with EADDRINUSE in the log"
else
	fail "second bind on a busy port fails with EADDRINUSE in the log" "$(cat "$work/busy.err")"
fi

rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$hpid/status"; }
# status code of a request; 000 when the server closed without answering
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }

# ---- what is answered ------------------------------------------------------------------------
hdrs=$(curl -s -D - -o "$work/metrics.txt" --max-time 2 "$url/metrics")
st=$(printf '%s' "$hdrs" | head -1 | tr -d '\r')
[[ $st == "HTTP/1.1 200"* ]] && ok "GET /metrics -> 200" || fail "GET /metrics -> 200" "$st"
ct=$(printf '%s' "$hdrs" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-type"{print $2}')
[ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] && ok "content type is $ct" ||
	fail "content type is text/plain; version=0.0.4; charset=utf-8" "got '$ct'"
grep -q '^iohazard_build_info{version="0.1.0"} 1$' "$work/metrics.txt" &&
	ok "body has iohazard_build_info" || fail "body has iohazard_build_info" "$(head -c 300 "$work/metrics.txt")"
if command -v promtool >/dev/null; then
	if promtool check metrics <"$work/metrics.txt" >"$work/promtool.log" 2>&1; then
		ok "promtool check metrics passes"
	else
		fail "promtool check metrics passes" "$(cat "$work/promtool.log")"
	fi
else
	fail "promtool check metrics passes" "promtool not installed (Debian package prometheus)"
fi

head_len=$(curl -s -I --max-time 2 "$url/metrics" -o /dev/null -w '%{http_code} %{size_download}')
[ "$head_len" = "200 0" ] && ok "HEAD /metrics -> 200, no body" || fail "HEAD /metrics -> 200, no body" "$head_len"
c=$(code -X POST -d x=1 "$url/metrics")
[ "$c" = 405 ] && ok "POST /metrics -> 405" || fail "POST /metrics -> 405" "got $c"
allow=$(curl -s -D - -o /dev/null --max-time 2 -X DELETE "$url/metrics" | tr -d '\r' |
	awk -F': ' 'tolower($1)=="allow"{print $2}')
[ "$allow" = "GET, HEAD" ] && ok "405 carries Allow: GET, HEAD" || fail "405 carries Allow: GET, HEAD" "got '$allow'"
c=$(code "$url/other")
[ "$c" = 404 ] && ok "GET /other -> 404" || fail "GET /other -> 404" "got $c"
c=$(code "$url/")
[ "$c" = 404 ] && ok "GET / -> 404" || fail "GET / -> 404" "got $c"
c=$(code -X GET -H 'Content-Type: text/plain' --data-binary hello "$url/metrics")
[ "$c" = 413 ] && ok "GET with a body -> 413" || fail "GET with a body -> 413" "got $c"

# ---- oversized requests: rejected at once, memory bounded ------------------------------------
scrape_ok() { # one normal scrape answers 200 within a second
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/metrics")" = 200 ]
}
rss0=$(rss_kb)
big=$(head -c 102400 /dev/zero | tr '\0' a)
start=$(date +%s%N)
codes=""
for _ in $(seq 20); do
	codes="$codes $(code -H "X-Big: $big" "$url/metrics")"
done
ms=$((($(date +%s%N) - start) / 1000000))
bad=$(echo "$codes" | tr ' ' '\n' | grep -v -E '^(4[0-9][0-9]|000)?$' | head -1)
[ -z "$bad" ] && ok "20 requests with a 100 KiB header rejected (codes:$(echo "$codes" | tr ' ' '\n' | sort -u | tr '\n' ' '))" ||
	fail "100 KiB header rejected" "codes:$codes"
[ "$ms" -lt 5000 ] && ok "... and rejected quickly (${ms} ms for 20)" || fail "100 KiB header rejected quickly" "${ms} ms"
long_url="$url/metrics?$(head -c 65536 /dev/zero | tr '\0' q)"
c=$(code "$long_url")
[[ $c == 4* || $c == 000 ]] && ok "64 KiB request line rejected ($c)" || fail "64 KiB request line rejected" "got $c"
scrape_ok && ok "normal scrape still answers after oversized requests" ||
	fail "normal scrape still answers after oversized requests"

# ---- many idle connections ---------------------------------------------------------------------
# From one other address (127.0.0.2): the per-IP limit refuses most of them outright.
r=$($ABUSE idle "$port" 200 1)
echo "# one address: $r"
set -- $r
[ "${2:-0}" = 200 ] && ok "200 idle connections from one address: a scrape from another answers (${3}s)" ||
	fail "200 idle connections from one address: a scrape from another answers" "$r"
# From 25 addresses, 8 each (under the per-IP limit): eviction of the oldest idle ones keeps
# room for a real scrape.
r=$($ABUSE idle "$port" 200 25)
echo "# 25 addresses: $r"
set -- $r
[ "${2:-0}" = 200 ] && ok "200 idle connections from 25 addresses: a scrape answers within 1 s (${3}s)" ||
	fail "200 idle connections from 25 addresses: a scrape answers within 1 s" "$r"
r=$($ABUSE idle "$port" 200 200)
echo "# 200 addresses: $r"
set -- $r
[ "${2:-0}" = 200 ] && ok "200 idle connections from 200 addresses: a scrape answers within 1 s (${3}s)" ||
	fail "200 idle connections from 200 addresses: a scrape answers within 1 s" "$r"

# ---- slow loris --------------------------------------------------------------------------------
r=$($ABUSE slowloris "$port")
echo "# slowloris: $r"
set -- $r
if [ "${1:-}" = cut ] && awk -v t="$2" 'BEGIN { exit !(t <= 8) }'; then
	ok "slow-loris client (1 byte/s) cut off by the request deadline after ${2}s"
else
	fail "slow-loris client (1 byte/s) cut off by the request deadline" "$r"
fi

# ---- memory and descriptors --------------------------------------------------------------------
rss1=$(rss_kb)
grow=$((rss1 - rss0))
[ "$grow" -lt 4096 ] && ok "memory bounded under abuse (RSS ${rss0} -> ${rss1} KiB)" ||
	fail "memory bounded under abuse" "RSS ${rss0} -> ${rss1} KiB"
scrape_ok && ok "normal scrape answers after the abuse" || fail "normal scrape answers after the abuse"
sleep 4 # past the idle timeout (3 s): every abusive connection must be gone
nfd=$(find "/proc/$hpid/fd" -mindepth 1 | wc -l)
[ "$nfd" -lt 16 ] && ok "connections released ($nfd descriptors open)" || fail "connections released" "$nfd descriptors open"
nocloexec=""
for f in /proc/"$hpid"/fdinfo/*; do
	n=${f##*/}
	# Only what the process opened itself (sockets, epoll, timerfd, signalfd); stdio and
	# whatever the test runner leaked into us are not ours to judge.
	case $(readlink "/proc/$hpid/fd/$n" 2>/dev/null) in socket:* | anon_inode:*) ;; *) continue ;; esac
	flags=$(awk '/^flags:/{print $2}' "$f" 2>/dev/null) || continue
	[ -n "$flags" ] && [ $((8#$flags & 8#2000000)) -eq 0 ] && nocloexec="$nocloexec $n"
done
[ -z "$nocloexec" ] && ok "every descriptor is O_CLOEXEC" || fail "every descriptor is O_CLOEXEC" "fds:$nocloexec"

kill -TERM "$hpid"
for _ in $(seq 30); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.1; done
wait "$hpid"
rc=$?
hpid=
[ "$rc" = 0 ] && ok "harness exits cleanly on SIGTERM" || fail "harness exits cleanly on SIGTERM" "rc=$rc; $(tail -3 "$work/err")"

# ---- textfile output ---------------------------------------------------------------------------
tf=$work/textfile/iohazard.prom
mkdir -p "$work/textfile"
if "$harness" x --render-once "$tf" && promtool check metrics <"$tf" >/dev/null 2>&1 &&
	[ "$(find "$work/textfile" -mindepth 1 | wc -l)" = 1 ]; then
	ok "textfile written atomically, passes promtool, no temp file left"
else
	fail "textfile written atomically, passes promtool, no temp file left" "$(ls -la "$work/textfile")"
fi

exit $((failed > 0))
