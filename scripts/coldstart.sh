#!/bin/sh
# coldstart.sh (make coldstart): how long make run takes until the proxy
# listens, from empty Go module and build caches (temporary directories, as
# on a new machine) and then warm (the same caches again). It prints wall and
# CPU time (user+sys of make and everything it ran) and the machine's load
# average before and after; on a shared machine wall time is noisy, CPU time
# much less so. Needs network access to the Go module proxy for the cold run.
# Nothing outside the temporary directory is written: make run builds into
# it (BUILD=...).
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
GOMODCACHE=$tmp/mod
GOCACHE=$tmp/cache
GOFLAGS="$(go env GOFLAGS) -modcacherw"
export GOMODCACHE GOCACHE GOFLAGS

measure() {
	out=$tmp/$1.out
	load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
	start=$(date +%s.%N)
	/usr/bin/time -f '%U %S' -o "$tmp/$1.time" \
		make --no-print-directory run BUILD="$tmp/build" RUN_ARGS='--listen 127.0.0.1:0 --admin off' >"$out" 2>&1 &
	tpid=$!
	until grep -q 'listening on' "$out"; do
		if ! kill -0 "$tpid" 2>/dev/null; then
			echo "coldstart: make run exited before listening:" >&2
			cat "$out" >&2
			exit 1
		fi
		sleep 0.1
	done
	end=$(date +%s.%N)
	load="$load -> $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
	# Stop make by its PID, as a user would: make run execs nedry, so make
	# passes the SIGTERM on and nedry shuts down.
	kill -TERM "$(pgrep -P "$tpid")"
	wait "$tpid" || true
	grep '^make run \[' "$out"
	# The last line: time's first may say make was ended by a signal.
	tail -n 1 "$tmp/$1.time" | awk -v s="$start" -v e="$end" -v what="$1" -v load="$load" '{ printf "%s make run: listening after %.1f s wall, %.1f s CPU (user %.1f, sys %.1f); load average %s\n", what, e - s, $1 + $2, $1, $2, load }'
}

measure cold
measure warm
