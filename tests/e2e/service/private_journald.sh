# SPDX-License-Identifier: GPL-2.0-only
# Sourced inside a private mount namespace (`unshare --mount --propagation private`): starts a
# real systemd-journald on the namespace's own /run, volatile storage, no rate limit, nothing
# forwarded. Sets jpid (the caller stops it by pid); returns 1 with a reason on stdout when
# journald does not come up. Assumes /run (and /var/log/journal) are already private tmpfs.
# Usage: start_private_journald OUT_DIR
start_private_journald() {
	local out=$1

	mkdir -p /run/systemd/journal /run/systemd/journald.conf.d /run/log
	cat >/run/systemd/journald.conf.d/test.conf <<'CONF'
[Journal]
Storage=volatile
RateLimitBurst=0
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
ReadKMsg=no
CONF
	/lib/systemd/systemd-journald 2>"$out/journald.err" &
	jpid=$!
	for _ in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
	[ -S /run/systemd/journal/socket ] && return 0
	echo "journald did not start"
	return 1
}
