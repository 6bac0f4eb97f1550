#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The packages, end to end (docs/packaging.md):
#   1. `make deb` builds the .deb from the current tree; lintian reports no errors.
#   2. The .deb holds exactly what `make install PREFIX=/usr` installs (plus Debian's
#      copyright/changelog), and packaging/rpm/iohazard.spec's %files (rpmspec -P) covers the
#      same layout, no more, no less.
#   3. `dpkg -i` on this Debian 12 host, into a throwaway overlay of / (a private mount
#      namespace, tmpfs upper layer: the host is never changed): it installs with dependencies
#      checked against the host's real dpkg database, postinst creates the iohazard group and
#      /etc/iohazard/rules.d, the catalog reaches journalctl; the installed layout starts:
#      `iohazardd --version`, `iohazard rules check /usr/lib/iohazard/rules.d`,
#      `systemd-analyze verify` of the installed unit, the installed daemon started as the
#      unit's ExecStart does (default socket /run/iohazard/api.sock, default rules search path)
#      answers `iohazard status`; then `dpkg --purge` removes it all.
#
#   tests/e2e/test_packaging.sh             everything (root; about a minute)
#   tests/e2e/test_packaging.sh --rpm-only  only the spec check (`make rpm-spec-check`)
# IOH_DEB=path.deb skips the build and tests that package.
set -u
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

rpm_only=0
[ "${1:-}" = --rpm-only ] && rpm_only=1

if [ "$(id -u)" != 0 ] && [ "$rpm_only" = 0 ]; then
	fail "packaging prerequisites" "needs root (dpkg -i into an overlay, BPF)"
	exit 1
fi
mkdir -p "$IOH_BUILD/e2e"
E2E_WORK=$(mktemp -d "$IOH_BUILD/e2e/test_packaging.XXXXXX") || exit 1
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
W=$E2E_WORK
# shellcheck disable=SC2317 # called through check()
quiet() { "$@" >/dev/null 2>&1; }

# ---- the layout `make install` produces -------------------------------------------------------
layout=$W/install-root
if make -s -C "$IOH_SRC" install BUILD="$IOH_BUILD" PREFIX=/usr DESTDIR="$layout" \
	>"$W/install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr"
else
	fail "make install DESTDIR=... PREFIX=/usr" "$(tail -5 "$W/install.log")"
	exit 1
fi
(cd "$layout" && find . ! -type d | sed 's#^\.##' | LC_ALL=C sort) >"$W/install.list"
for p in /usr/sbin/iohazardd /usr/bin/iohazard /usr/lib/systemd/system/iohazardd.service \
	/usr/lib/sysusers.d/iohazard.conf /usr/lib/tmpfiles.d/iohazard.conf \
	/usr/lib/systemd/catalog/iohazard.catalog /usr/share/man/man8/iohazardd.8 \
	/usr/share/man/man8/iohazard.8 /usr/share/bash-completion/completions/iohazard \
	/usr/share/bash-completion/completions/iohazardd /usr/share/doc/iohazard/service.md; do
	grep -qx "$p" "$W/install.list" || fail "make install ships $p" "missing"
done
if ls "$layout"/usr/lib/iohazard/rules.d/*.rules >/dev/null 2>&1; then
	ok "make install ships the unit, sysusers, tmpfiles, catalog, man pages, completion, docs and rules"
else
	fail "make install ships the default rules" "no /usr/lib/iohazard/rules.d/*.rules"
fi

# ---- the RPM spec ---------------------------------------------------------------------------------
spec=$IOH_SRC/packaging/rpm/iohazard.spec
if ! command -v rpmspec >/dev/null; then
	fail "rpmspec -P iohazard.spec" "rpmspec missing (apt-get install rpm; make deps)"
elif rpmspec --load "$IOH_SRC/packaging/rpm/macros.debian-check" -P "$spec" >"$W/spec.txt" \
	2>"$W/spec.err"; then
	ok "rpmspec -P packaging/rpm/iohazard.spec parses (Fedora's systemd macros from macros.debian-check)"
	# %files entries, directives stripped. A trailing / owns the tree below; globs as rpm does.
	sed -n '/^%files/,/^%changelog/p' "$W/spec.txt" | sed '1d;$d' | grep -v '^#' |
		sed -e 's/%\(attr\|config\|verify\|defattr\)([^)]*)//g' \
			-e 's/%\(dir\|doc\|license\|config\|ghost\)\b//g' -e 's/^[[:space:]]*//' |
		grep -v '^$' >"$W/files.list"
	: >"$W/covered"
	while IFS= read -r entry; do
		n=0
		while IFS= read -r f; do
			# shellcheck disable=SC2053 # the %files entry is a glob on purpose
			case $entry in
			*/) [[ $f == "$entry"* ]] && { echo "$f" >>"$W/covered"; n=$((n + 1)); } ;;
			*) [[ $f == $entry ]] && { echo "$f" >>"$W/covered"; n=$((n + 1)); } ;;
			esac
		done <"$W/install.list"
		# %dir entries name directories: present if anything lives below.
		[ "$n" = 0 ] && grep -q "^$entry/" "$W/install.list" && n=1
		[ "$n" -gt 0 ] || echo "$entry" >>"$W/unmatched"
	done <"$W/files.list"
	LC_ALL=C sort -u "$W/covered" | comm -23 "$W/install.list" - >"$W/uncovered"
	if [ ! -s "$W/unmatched" ] && [ ! -s "$W/uncovered" ]; then
		ok "spec %files ($(wc -l <"$W/files.list") entries) matches the $(wc -l <"$W/install.list") files of make install"
	else
		fail "spec %files matches make install" "in %files but not installed: $(tr '\n' ' ' <"$W/unmatched" 2>/dev/null); installed but not in %files: $(tr '\n' ' ' <"$W/uncovered")"
	fi
else
	fail "rpmspec -P packaging/rpm/iohazard.spec parses" "$(head -5 "$W/spec.err")"
fi
[ "$rpm_only" = 1 ] && e2e_finish

# ---- Prometheus alerts and the Grafana dashboard ----------------------------------------------
prom=$IOH_SRC/packaging/prometheus
if command -v promtool >/dev/null; then
	check "promtool check rules packaging/prometheus/iohazard-alerts.yml" \
		"$(promtool check rules "$prom/iohazard-alerts.yml" 2>&1)" \
		quiet promtool check rules "$prom/iohazard-alerts.yml"
	out=$(cd "$prom" && promtool test rules iohazard-alerts.test.yml 2>&1)
	check "promtool test rules iohazard-alerts.test.yml (hazards, losses, hooks, blind, down)" \
		"$out" grep -q SUCCESS <<<"$out"
else
	fail "promtool check rules" "promtool missing (apt-get install prometheus; make deps)"
fi
dash=$IOH_SRC/packaging/grafana/iohazard-dashboard.json
# Valid JSON, every panel on the ${datasource} variable, every query valid PromQL (Grafana's
# variables replaced by plain values, then parsed by promtool as recording rules).
if python3 - "$dash" "$W/dash-rules.yml" >"$W/dash.out" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert any(v["name"] == "datasource" and v["type"] == "datasource" for v in d["templating"]["list"])
exprs = []
for p in d["panels"]:
    if p["type"] == "row":
        continue
    assert p["datasource"]["uid"] == "${datasource}", p["title"]
    for t in p["targets"]:
        e = t["expr"]
        for a, b in (("$__rate_interval", "5m"), ("$__range", "1h"), ("$job", ".*"),
                     ("$instance", ".*"), ("$bdi", ".*")):
            e = e.replace(a, b)
        exprs.append(e)
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        f.write("      - record: dashboard_query_%d\n        expr: %s\n" % (i, json.dumps(e)))
print(len(exprs))
PY
then
	n=$(cat "$W/dash.out")
	check "grafana dashboard: valid JSON, datasource variable, $n PromQL queries parse" \
		"$(promtool check rules "$W/dash-rules.yml" 2>&1)" quiet promtool check rules "$W/dash-rules.yml"
else
	fail "grafana dashboard is valid JSON with a datasource variable" "$(cat "$W/dash.out")"
fi

# ---- make deb -----------------------------------------------------------------------------------
deb=${IOH_DEB:-}
if [ -z "$deb" ]; then
	t0=$SECONDS
	if make -C "$IOH_SRC" deb BUILD="$W/b" VERSION="$("$IOH_BUILD/iohazardd" --version | awk '{print $2}')" \
		>"$W/deb.log" 2>&1; then
		deb=$(find "$W/b/deb" -maxdepth 1 -name 'iohazard_*_amd64.deb' | head -n1)
		nw=$(grep -c '^W: ' "$W/deb.log")
		ok "make deb builds $(basename "$deb") in $((SECONDS - t0)) s; lintian: no errors, $nw warnings"
		grep -E '^[WI]: ' "$W/deb.log" | sed 's/^/#   lintian /'
	else
		fail "make deb (dpkg-buildpackage + lintian --fail-on error)" "$(grep -E '^E: |error' "$W/deb.log" | head -5) $(tail -3 "$W/deb.log")"
		exit 1
	fi
fi
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's#^\.##' | LC_ALL=C sort >"$W/deb.list"
# The package = make install, with man pages gzip'd and Debian's own copyright and changelog.
sed -e 's#^\(/usr/share/man/.*\)\.gz$#\1#' "$W/deb.list" |
	grep -vx -e /usr/share/doc/iohazard/copyright -e /usr/share/doc/iohazard/changelog.gz >"$W/deb.norm"
if diff "$W/install.list" "$W/deb.norm" >"$W/deb.diff"; then
	ok "the .deb holds exactly the make install layout ($(wc -l <"$W/deb.list") files)"
else
	fail "the .deb holds exactly the make install layout" "$(tr '\n' ' ' <"$W/deb.diff")"
fi

# ---- dpkg -i into an overlay of / ---------------------------------------------------------------
for t in unshare chroot dpkg systemd-analyze; do
	command -v "$t" >/dev/null || { fail "packaging prerequisites" "$t missing"; exit 1; }
done
cp "$deb" "$W/pkg.deb"
# Inside the chroot (the overlay's merged view); every line is a TAP line or a comment.
cat >"$W/in-chroot.sh" <<'EOF'
#!/bin/bash
set -u
ok() { echo "ok - installed: $1"; }
fail() { echo "not ok - installed: $1: $(printf '%s' "${2:-}" | tr '\n' ' ' | cut -c1-800)"; }
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
if out=$(dpkg -i /pkgtest/pkg.deb 2>&1); then
	ok "dpkg -i $(dpkg-query -W -f='${Package} ${Version}' iohazard) (dependencies from the host's dpkg database)"
else
	fail "dpkg -i" "$out"
	exit 1
fi
st=$(dpkg-query -W -f='${Status}' iohazard)
[ "$st" = "install ok installed" ] && ok "dpkg status: $st" || fail "dpkg status" "$st"
getent group iohazard >/dev/null && ok "postinst created group iohazard ($(getent group iohazard))" ||
	fail "postinst created group iohazard" "getent group iohazard: nothing"
[ -d /etc/iohazard/rules.d ] && ok "postinst (systemd-tmpfiles) created /etc/iohazard/rules.d" ||
	fail "postinst created /etc/iohazard/rules.d" "missing"
[ -L /etc/systemd/system/multi-user.target.wants/iohazardd.service ] &&
	ok "postinst enabled iohazardd.service (multi-user.target.wants)" ||
	fail "postinst enabled iohazardd.service" "no multi-user.target.wants symlink"
if journalctl --list-catalog 82e1c9cf451148419450c3aab90f0204 2>/dev/null | grep -q iohazard; then
	ok "journal catalog updated (journalctl --list-catalog knows rename-without-dir-fsync's id)"
else
	fail "journal catalog updated" "$(journalctl --list-catalog 2>&1 | grep -c . ) entries, none of ours"
fi
v=$(/usr/sbin/iohazardd --version 2>&1)
[[ $v == "iohazardd "* ]] && ok "/usr/sbin/iohazardd --version: $v" || fail "iohazardd --version" "$v"
out=$(/usr/bin/iohazard rules check /usr/lib/iohazard/rules.d 2>&1) &&
	ok "iohazard rules check /usr/lib/iohazard/rules.d: $out" || fail "iohazard rules check" "$out"
out=$(systemd-analyze verify --man=no /usr/lib/systemd/system/iohazardd.service 2>&1)
if [ -z "$out" ]; then
	ok "systemd-analyze verify of the installed unit: clean (ExecStart=/usr/sbin/iohazardd exists)"
else
	fail "systemd-analyze verify of the installed unit" "$out"
fi
[ -f /usr/share/man/man8/iohazardd.8.gz ] && [ -f /usr/share/bash-completion/completions/iohazard ] &&
	ok "man pages and bash completion in place" || fail "man pages and bash completion" "missing"

# The installed daemon as the unit runs it (ExecStart's arguments; RuntimeDirectory= made by
# hand; no metrics listener, so a port in use elsewhere on the host cannot interfere).
mkdir -p -m "$(sed -n 's/^RuntimeDirectoryMode=//p' /usr/lib/systemd/system/iohazardd.service)" /run/iohazard
/usr/sbin/iohazardd --foreground --output=none --metrics-listen off >/run/iohazardd.log 2>&1 &
dpid=$!
if /usr/bin/iohazard status --wait-ready=60 >/run/status.txt 2>&1; then
	ok "installed iohazardd started; iohazard status answers on /run/iohazard/api.sock ($(head -n1 /run/status.txt | tr -s ' ' | cut -c1-120))"
	grp=$(stat -c '%G %a' /run/iohazard/api.sock 2>/dev/null)
	[ "$grp" = "iohazard 660" ] && ok "API socket group iohazard, mode 0660" ||
		fail "API socket group iohazard, mode 0660" "got $grp"
else
	fail "installed iohazardd answers iohazard status" "$(tail -5 /run/iohazardd.log) / $(cat /run/status.txt)"
fi
kill -TERM "$dpid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null

if out=$(dpkg --purge iohazard 2>&1); then
	left=$(ls /usr/sbin/iohazardd /usr/lib/systemd/system/iohazardd.service \
		/usr/lib/iohazard 2>/dev/null)
	[ -z "$left" ] && ok "dpkg --purge removes the package" || fail "dpkg --purge removes everything" "left: $left"
else
	fail "dpkg --purge" "$out"
fi
EOF
chmod 0755 "$W/in-chroot.sh"

# A private mount namespace: overlay of / with a tmpfs upper layer, /proc /sys /dev bound, a
# fresh /run and /tmp. Everything vanishes with the namespace; nothing reaches the host.
t0=$SECONDS
unshare --mount --propagation private bash -s "$W" >"$W/chroot.out" 2>&1 <<'EOF'
set -eu
W=$1
o=$W/ovl
mkdir -p "$o"
mount -t tmpfs -o size=512m tmpfs "$o"
mkdir -p "$o/upper" "$o/work" "$o/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$o/upper,workdir=$o/work" "$o/root"
r=$o/root
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount --rbind /dev "$r/dev"
mount -t tmpfs tmpfs "$r/run"
mount -t tmpfs tmpfs "$r/tmp"
mkdir -p "$r/pkgtest"
mount -t tmpfs tmpfs "$r/pkgtest"
cp "$W/pkg.deb" "$W/in-chroot.sh" "$r/pkgtest/"
chroot "$r" /pkgtest/in-chroot.sh
EOF
rc=$?
cat "$W/chroot.out"
if ! grep -q '^ok - installed: dpkg -i' "$W/chroot.out"; then
	fail "dpkg -i into an overlay of / (unshare --mount, chroot)" "status $rc"
fi
E2E_FAILED=$((E2E_FAILED + $(grep -c '^not ok ' "$W/chroot.out")))
log "install checks took $((SECONDS - t0)) s"
e2e_finish
