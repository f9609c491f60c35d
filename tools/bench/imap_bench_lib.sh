# imap_bench_lib.sh: helpers sourced by ref_dovecot_imap.sh and
# run_roost_imap.sh on top of bench_lib.sh: the IMAP benchmark's
# parameters, finding imap_bench, running it, and reading the CPU time and
# memory of a server's processes from /proc. Not a script of its own.
# shellcheck shell=bash

. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

# The IMAP benchmark's parameters (the issue's mix): override from the
# environment.
IMAP_U=${BENCH_IMAP_U:-100}          # users user1..userU with mail
IMAP_P=${BENCH_IMAP_P:-200}          # messages per user's INBOX
IMAP_SIZE=${BENCH_IMAP_SIZE:-4096}   # bytes per message
IMAP_C=${BENCH_IMAP_C:-20}           # concurrent connections
IMAP_S=${BENCH_IMAP_S:-2000}         # sessions per run
IMAP_M=${BENCH_IMAP_M:-50}           # messages per FETCH
IMAP_SEARCH=${BENCH_IMAP_SEARCH-UNSEEN}   # empty: no SEARCH
IMAP_IDLE=${BENCH_IMAP_IDLE:-10000}  # idle connections; 0 skips
IMAP_IDLE_USERS=${BENCH_IMAP_IDLE_USERS:-$IMAP_U}
IMAP_HOLD=${BENCH_IMAP_HOLD:-10}     # seconds to hold them before measuring
IMAP_PASS=${BENCH_IMAP_PASS:-bench-imap-pw}
# Idle mode stops early if the machine's MemAvailable falls below this
# (KiB): the machine is shared.
IMAP_MEM_MIN_KB=${BENCH_IMAP_MEM_MIN_KB:-4194304}

# The sampler's notion of "ours" (bench_lib.sh) plus the IMAP processes.
BENCH_OURS='^(imap_bench|smtp_bench|imap|imap-login|imap-hibernate|dovecot|auth|config|log|stats|anvil|indexer|roostd|roostctl|curl|sh|bash|ps|awk|grep|sleep|cat|tr|wc|date|seq|head|cut|sync|mktemp|chown|find|sort|uniq)$'

# Finds imap_bench: $IMAP_BENCH, else build-bench/, else build/.
ibench_find() {
	local b
	for b in "${IMAP_BENCH:-}" "$BENCH_TOP/build-bench/bin/imap_bench" \
	    "$BENCH_TOP/build/bin/imap_bench"; do
		if [ -n "$b" ] && [ -x "$b" ]; then
			IMAP_BENCH=$b
			return 0
		fi
	done
	bench_die "imap_bench not built: cmake -S . -B build-bench" \
	    "-DCMAKE_BUILD_TYPE=RelWithDebInfo &&" \
	    "cmake --build build-bench -j2 --target imap_bench"
}

# CPU time (clock ticks) used so far by the processes $@ and by their
# children that have been waited for (utime, stime, cutime, cstime of
# /proc/PID/stat). A server that forks a process per session reaps it,
# so its parent's cutime/cstime hold the sessions that are gone.
ibench_cpu_ticks() {
	local pid t=0 v
	for pid in "$@"; do
		# Fields after the ")" of comm: 12-15 are utime .. cstime.
		v=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null |
		    awk '{ print $12 + $13 + $14 + $15 }') || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# Prints "RSS PSS" in KiB summed over the processes $@ (PSS shares each
# shared page among its users, so it does not count a page twice).
ibench_mem_kb() {
	local pid
	for pid in "$@"; do
		cat "/proc/$pid/smaps_rollup" 2>/dev/null
	done | awk '/^Rss:/ { r += $2 } /^Pss:/ { p += $2 }
	    END { printf "%d %d\n", r, p }'
}

ibench_mem_available_kb() {
	awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
}

# Runs imap_bench in sessions mode against 127.0.0.1:$1 with the issue's
# mix plus "$@"; its output goes to stdout and its JSON line to the file
# $BENCH_JSON_OUT (appended).
ibench_run_sessions() {
	local port=$1 out rc
	shift
	out=$(mktemp)
	rc=0
	bench_watch_start
	"$IMAP_BENCH" --host 127.0.0.1 --port "$port" -S "$IMAP_S" \
	    -c "$IMAP_C" -u "$IMAP_U" --domain "$BENCH_DOMAIN" \
	    --pass "$IMAP_PASS" -m "$IMAP_M" --search "$IMAP_SEARCH" --json \
	    "$@" >"$out" || rc=$?
	grep -v '^{' "$out"
	bench_watch_stop
	if [ -n "${BENCH_JSON_OUT:-}" ]; then
		grep '^{' "$out" >>"$BENCH_JSON_OUT" || true
	fi
	rm -f "$out"
	return "$rc"
}

# Every user's mailbox once, quietly: "$@" are imap_bench options (used
# to open indexes before measuring, and to clear \Seen between runs).
ibench_pass() {
	local port=$1
	shift
	"$IMAP_BENCH" --host 127.0.0.1 --port "$port" -S "$IMAP_U" \
	    -c "$IMAP_C" -u "$IMAP_U" --domain "$BENCH_DOMAIN" \
	    --pass "$IMAP_PASS" -m "$IMAP_P" "$@" >/dev/null
}

IBENCH_IDLE_PID=
IBENCH_IDLE_OUT=
# Idle mode against 127.0.0.1:$1: opens $IMAP_IDLE connections in IDLE
# and waits until imap_bench says all are idling (or failed), stopping it
# early when MemAvailable drops below $IMAP_MEM_MIN_KB. Then the caller
# measures and calls ibench_idle_stop. Returns 1 if not all idled.
ibench_idle_start() {
	local port=$1
	IBENCH_IDLE_OUT=$(mktemp)
	"$IMAP_BENCH" --host 127.0.0.1 --port "$port" --idle "$IMAP_IDLE" \
	    -u "$IMAP_IDLE_USERS" --domain "$BENCH_DOMAIN" --pass "$IMAP_PASS" \
	    --timeout "${IBENCH_IDLE_TIMEOUT:-120}" --json >"$IBENCH_IDLE_OUT" 2>&1 &
	IBENCH_IDLE_PID=$!
	for _ in $(seq 1 12000); do
		grep -q 'connections idling' "$IBENCH_IDLE_OUT" && break
		kill -0 "$IBENCH_IDLE_PID" 2>/dev/null || break
		if [ "$(ibench_mem_available_kb)" -lt "$IMAP_MEM_MIN_KB" ]; then
			bench_log "MemAvailable below $IMAP_MEM_MIN_KB KiB:" \
			    "stopping the idle connections early"
			IBENCH_IDLE_EARLY=yes
			return 1
		fi
		sleep 0.1
	done
	grep -m1 'connections idling' "$IBENCH_IDLE_OUT" >&2 || true
	grep -q "idle: $IMAP_IDLE connections idling" "$IBENCH_IDLE_OUT"
}

# Stops the idle imap_bench and prints its summary.
ibench_idle_stop() {
	[ -n "$IBENCH_IDLE_PID" ] || return 0
	kill -TERM "$IBENCH_IDLE_PID" 2>/dev/null || true
	bench_wait_gone "$IBENCH_IDLE_PID" 60 || bench_stop_pid "$IBENCH_IDLE_PID" 5
	wait "$IBENCH_IDLE_PID" 2>/dev/null || true
	IBENCH_IDLE_PID=
	grep -v '^{' "$IBENCH_IDLE_OUT" | grep -v 'connections idling' || true
	if [ -n "${BENCH_JSON_OUT:-}" ]; then
		grep '^{' "$IBENCH_IDLE_OUT" >>"$BENCH_JSON_OUT" || true
	fi
	rm -f "$IBENCH_IDLE_OUT"
}

# How many connections imap_bench has idling right now: the count of
# its established sockets is not known to it mid-run, so ask ss.
ibench_idle_count() {
	ss -Htn state established "( dport = :$1 )" 2>/dev/null | wc -l
}
