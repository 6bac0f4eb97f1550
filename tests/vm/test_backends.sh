#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The same hazard workloads under each of the three backends, in one boot of Debian 12's 6.1
# kernel (tests/vm/run-vm.sh): `iohazardd --backend=fentry`, then `--backend=kprobe`, then
# `--backend=tracepoint`, one daemon after the other on a fresh ext4 loop mount each. Every run
# must report the same findings (rule, comm, path, severity; pids differ) for:
#
#   unsafe            write a.tmp, rename over a, no fsync at all:
#                     rename-unsynced-source + rename-without-dir-fsync
#   fsync-file-only   fsync the file, rename, no directory fsync: rename-without-dir-fsync
#                     (warning)
#   safe              fsync the file, rename, fsync the directory: nothing
#   mixed             an O_DIRECT writer, then a buffered reader of the same file:
#                     mixed-direct-buffered (critical)
#
# and `status --json` must show the requested backend on the hooks that have twins:
# rename/fsync = fentry/fentry, kprobe/kprobe, tracepoint/tracepoint. The CO-RE reads of
# structures that differ between 6.1 and 6.18 are checked on the way: the rename findings of
# fentry/kprobe carry identity "kernel" (struct renamedata read in the kernel; 6.1 has
# old_dir/new_dir, 6.18 old_parent/new_parent) and the balance_dirty_pages tracepoint hook
# (dirty_throttle) is attached under every backend.
#
# On the host (tests/run-all.sh BUILD vm, or IOH_BUILD=build tests/vm/test_backends.sh) this
# boots the VM and runs itself inside it (IOH_IN_VM=1). Each run prints "# backend NAME: ..."
# lines saying what it used; results are "ok -"/"not ok -" lines.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)

# ================================ host: boot the VM, run ourselves ============================
if [ "${IOH_IN_VM:-0}" != 1 ]; then
	export IOH_SRC=${IOH_SRC:-$(cd "$here/../.." && pwd)}
	export IOH_BUILD=${IOH_BUILD:-$IOH_SRC/build}
	IOH_BUILD=$(cd "$IOH_BUILD" && pwd)
	missing=
	for f in iohazardd iohazard workloads/durability workloads/mixed_io; do
		[ -x "$IOH_BUILD/$f" ] || missing="$missing $f"
	done
	if [ -n "$missing" ]; then
		echo "not ok - backends: prerequisites built in $IOH_BUILD:$missing (make all test-bins)"
		exit 1
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/ioh-backends.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	start=$SECONDS
	rc=0
	"$here/run-vm.sh" --timeout "${IOH_BACKENDS_TIMEOUT:-300}" -- tests/vm/test_backends.sh \
		>"$tmp/vm.out" 2>"$tmp/vm.err" || rc=$?
	grep -v '^IOH-VM-EXIT=' "$tmp/vm.out"
	sed 's/^/# /' "$tmp/vm.err"
	echo "# backends: VM round trip $((SECONDS - start)) s"
	if [ "$rc" != 0 ] && ! grep -q '^not ok ' "$tmp/vm.out"; then
		echo "not ok - backends: the VM run ended with status $rc and no result lines"
	fi
	exit "$rc"
fi

# ================================ guest ======================================================
B=${IOH_BUILD:-/ioh/build}
RULES=${IOH_SRC:-/ioh/src}/rules
W=/run/ioh-backends
MNT=/mnt/ioh-backends
WINDOW=5 # rename-without-dir-fsync's default window (rules/10-default.rules)
mkdir -p "$W" "$MNT"
fails=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }
log() { echo "# $*"; }

DPID=
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		sleep 1
		kill -KILL "$DPID" 2>/dev/null
	fi
	mountpoint -q "$MNT" && umount "$MNT"
	rm -rf "$W"
}
trap cleanup EXIT

# Workloads run under their own comms (symlinks), so comm is part of what is compared.
mkdir -p "$W/bin"
cp "$B/workloads/durability" "$B/workloads/mixed_io" "$W/bin/"
ln -sf durability "$W/bin/dur-unsafe"
ln -sf durability "$W/bin/dur-fileonly"
ln -sf durability "$W/bin/dur-safe"
ln -sf mixed_io "$W/bin/mx-dwriter"
ln -sf mixed_io "$W/bin/mx-breader"

# One top-level key of a finding line ("time","rule","severity",...,"path" come before the
# evidence object, so the first match is the top-level one). No python in the guest.
jget() { # key < line
	sed -n "s/^[^{]*{.*\"$1\":\(\"[^\"]*\"\|[0-9-][0-9.]*\|null\|true\|false\).*/\1/p" |
		head -n1 | sed 's/^"\(.*\)"$/\1/'
}
# Findings of the given pids as "rule|comm|path|severity|identity" lines, sorted, the run's
# directory replaced by the same placeholder in every run.
summarize() { # out-file pid...
	local out=$1 line pid rule comm path sev ident
	shift
	while IFS= read -r line; do
		pid=$(jget pid <<<"$line")
		case " $* " in *" $pid "*) ;; *) continue ;; esac
		rule=$(jget rule <<<"$line")
		comm=$(jget comm <<<"$line")
		path=$(jget path <<<"$line")
		sev=$(jget severity <<<"$line")
		ident=$(sed -n 's/.*"identity":"\([^"]*\)".*/\1/p' <<<"$line")
		echo "$rule|$comm|${path/#$MNT/MNT}|$sev|${ident:--}"
	done <"$out" | LC_ALL=C sort
}
count_pids() { # out-file pid...: number of finding lines of these pids
	local out=$1 n=0 p
	shift
	for p in "$@"; do
		n=$((n + $(grep -c "\"pid\":$p," "$out" || true)))
	done
	echo "$n"
}
status_hook() { # json hook -> "backend attached"
	local b a
	b=$(grep -o "\"$2\":{\"backend\":\"[a-z_]*\"" <<<"$1" | sed 's/.*:"\([a-z_]*\)"$/\1/')
	a=$(grep -o "\"$2\":{\"backend\":\"[a-z_]*\",\"attached\":[a-z]*" <<<"$1" | sed 's/.*://')
	echo "${b:-?} ${a:-?}"
}

run_backend() { # backend
	local be=$1 d out err sock js ri fs dt t0 pu pf ps p1 p2 n want deadline
	d=$MNT/w
	out=$W/$be.jsonl err=$W/$be.log sock=$W/$be.sock
	log "backend $be: fresh ext4 at $MNT"
	mountpoint -q "$MNT" && umount "$MNT"
	if ! { truncate -s 64M "$W/img" && mkfs.ext4 -q -F "$W/img" >/dev/null 2>&1 &&
		mount -o loop "$W/img" "$MNT"; }; then
		notok "$be: ext4 loop mount"
		return
	fi
	mkdir -p "$d/unsafe" "$d/fileonly" "$d/safe" "$d/mixed"

	t0=$SECONDS
	"$B/iohazardd" --foreground --backend "$be" --rules-dir "$RULES" --socket "$sock" \
		--output=json --metrics-listen off >"$out" 2>"$err" &
	DPID=$!
	if ! "$B/iohazard" --socket "$sock" status --wait-ready=90 >/dev/null 2>&1; then
		notok "$be: daemon ready ($(tail -3 "$err" | tr '\n' ' '))"
		kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=
		return
	fi
	js=$("$B/iohazard" --socket "$sock" status --json 2>&1)
	ri=$(status_hook "$js" rename)
	fs=$(status_hook "$js" fsync)
	dt=$(status_hook "$js" dirty_throttle)
	log "backend $be: ready after $((SECONDS - t0)) s; $(grep -m1 'Ready:' "$err" | sed 's/.*Ready: //')"
	log "backend $be: used rename=${ri% *} fsync=${fs% *} dirty_throttle=${dt% *}"
	case $be in
	fentry) want="fentry fentry" ;;
	kprobe) want="kprobe kprobe" ;;
	tracepoint) want="tracepoint tracepoint" ;;
	esac
	if [ "${ri% *} ${fs% *}" = "$want" ] && [ "${ri#* }" = true ] && [ "${fs#* }" = true ]; then
		ok "$be: status --json shows rename=${ri% *} fsync=${fs% *}, attached"
	else
		notok "$be: status --json shows rename/fsync = $want attached (got $ri / $fs)"
	fi
	# The balance_dirty_pages tracepoint's struct is read through CO-RE; it must attach on 6.1
	# whatever the backend of the other hooks.
	if [ "${dt#* }" = true ]; then
		ok "$be: balance_dirty_pages tracepoint hook attached (dirty_throttle=${dt% *})"
	else
		notok "$be: balance_dirty_pages tracepoint hook attached (dirty_throttle: $dt)"
	fi

	# The workloads, all at once (distinct directories, pids and comms).
	"$W/bin/mx-dwriter" direct-writer "$d/mixed/data" 2.5 3 >/dev/null 2>>"$W/wl.err" &
	p1=$!
	"$W/bin/dur-unsafe" unsafe "$d/unsafe" >/dev/null 2>>"$W/wl.err" & pu=$!
	"$W/bin/dur-fileonly" fsync-file-only "$d/fileonly" >/dev/null 2>>"$W/wl.err" & pf=$!
	"$W/bin/dur-safe" safe "$d/safe" >/dev/null 2>>"$W/wl.err" & ps=$!
	sleep 0.6
	"$W/bin/mx-breader" buffered-reader "$d/mixed/data" 1 >/dev/null 2>>"$W/wl.err" &
	p2=$!
	wait "$pu" "$pf" "$ps" "$p2" "$p1" || notok "$be: workloads exit 0 ($(tail -2 "$W/wl.err"))"
	# Bounded wait: 4 expected findings (2 unsafe, 1 file-only, 1 mixed), then the rule's
	# window plus slack after the renames, so a finding for the safe pattern had its chance.
	deadline=$((SECONDS + WINDOW + 25))
	while [ "$SECONDS" -lt "$deadline" ]; do
		n=$(count_pids "$out" "$pu" "$pf" "$p1" "$p2")
		[ "$n" -ge 4 ] && break
		sleep 0.5
	done
	sleep 3
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
	echo "$pu $pf $ps $p1 $p2" >"$W/$be.pids"
	{
		summarize "$out" "$pu" | sed 's/^/unsafe|/'
		summarize "$out" "$pf" | sed 's/^/fsync-file-only|/'
		summarize "$out" "$ps" | sed 's/^/safe|/'
		summarize "$out" "$p1" "$p2" | sed 's/^/mixed|/'
	} >"$W/$be.sum"
	log "backend $be: $(wc -l <"$out") finding(s) in $((SECONDS - t0)) s; workload pids unsafe=$pu fsync-file-only=$pf safe=$ps mixed=$p1,$p2"
	sed "s/^/#   $be: /" "$W/$be.sum"
	umount "$MNT" || log "could not unmount $MNT"
}

has() { grep -qx -- "$2" "$W/$1.sum"; }
has_re() { grep -qE -- "$2" "$W/$1.sum"; }

expect() { # backend
	local be=$1 id=kernel
	[ "$be" = tracepoint ] && id='[a-z]+'
	if has_re "$be" "^unsafe\|rename-unsynced-source\|dur-unsafe\|MNT/w/unsafe/a\|[a-z]+\|$id$" &&
		has_re "$be" "^unsafe\|rename-without-dir-fsync\|dur-unsafe\|MNT/w/unsafe/a\|[a-z]+\|$id$"; then
		ok "$be: unsafe rename -> rename-unsynced-source + rename-without-dir-fsync"
	else
		notok "$be: unsafe rename -> rename-unsynced-source + rename-without-dir-fsync ($(grep '^unsafe|' "$W/$be.sum" | tr '\n' ' '))"
	fi
	if has_re "$be" "^fsync-file-only\|rename-without-dir-fsync\|dur-fileonly\|MNT/w/fileonly/a\|warning\|$id$" &&
		[ "$(grep -c '^fsync-file-only|' "$W/$be.sum")" = 1 ]; then
		ok "$be: fsync-file-only -> one rename-without-dir-fsync warning"
	else
		notok "$be: fsync-file-only -> one rename-without-dir-fsync warning ($(grep '^fsync-file-only|' "$W/$be.sum" | tr '\n' ' '))"
	fi
	if ! grep -q '^safe|' "$W/$be.sum"; then
		ok "$be: safe pattern -> no finding"
	else
		notok "$be: safe pattern -> no finding ($(grep '^safe|' "$W/$be.sum" | tr '\n' ' '))"
	fi
	if has_re "$be" '^mixed\|mixed-direct-buffered\|mx-[a-z]+\|MNT/w/mixed/data\|critical\|'; then
		ok "$be: O_DIRECT write then buffered read -> mixed-direct-buffered critical"
	else
		notok "$be: O_DIRECT write then buffered read -> mixed-direct-buffered critical ($(grep '^mixed|' "$W/$be.sum" | tr '\n' ' '))"
	fi
	if [ "$be" != tracepoint ]; then
		# renamedata CO-RE: the identity of the renamed inode came from the kernel.
		local notkernel
		notkernel=$(grep -E '^(unsafe|fsync-file-only)\|rename' "$W/$be.sum" | grep -v '|kernel$')
		if [ -z "$notkernel" ] &&
			grep -qE '^(unsafe|fsync-file-only)\|rename' "$W/$be.sum"; then
			ok "$be: rename findings carry identity \"kernel\" (struct renamedata via CO-RE on 6.1)"
		else
			notok "$be: rename findings carry identity \"kernel\" ($(grep -E '^(unsafe|fsync)' "$W/$be.sum" | tr '\n' ' '))"
		fi
	fi
}

log "kernel $(uname -r)"
for be in fentry kprobe tracepoint; do
	run_backend "$be"
	[ -f "$W/$be.sum" ] && expect "$be"
done

# Same findings under every backend: rule, case, comm, path, severity (the identity field is
# how the tracepoint backend says it resolved names in user space, so it is left out).
for be in kprobe tracepoint; do
	if [ -f "$W/fentry.sum" ] && [ -f "$W/$be.sum" ] &&
		diff <(cut -d'|' -f1-5 "$W/fentry.sum") <(cut -d'|' -f1-5 "$W/$be.sum") >"$W/diff"; then
		ok "$be reports the same findings as fentry ($(wc -l <"$W/$be.sum") findings: rule, comm, path, severity)"
	else
		notok "$be reports the same findings as fentry: $(tr '\n' ' ' <"$W/diff" 2>/dev/null)"
	fi
done

[ "$fails" -eq 0 ]
