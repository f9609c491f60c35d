#!/usr/bin/env bash
# run_roost_imap.sh: the IMAP benchmark of tools/bench/README.md against
# Roost. Starts a standalone roostd on a fresh data directory (ports
# 31000 + n on 127.0.0.1, IMAP on 31143), creates user1..userU@bench.test
# with one password, delivers P messages of ~4 KiB to each over SMTP with
# smtp_bench, then measures like ref_dovecot_imap.sh: imap_bench sessions
# mode (sessions/s, fetched messages/s, roostd's CPU time) and idle mode
# (roostd's VmRSS before and with N connections in IDLE; the target is
# 10,000 under 200 MB). Fails with a clear message while roostd has no
# IMAP listener.
#
# usage: tools/bench/run_roost_imap.sh [--keep]
#   --keep   leave the data directory and roostd.log in place afterwards
# environment: BENCH_IMAP_U, _P, _SIZE, _C, _S, _M, _SEARCH, _IDLE,
#   _IDLE_USERS, _HOLD (see imap_bench_lib.sh), BENCH_RUNS, BENCH_LOAD_MAX,
#   ROOSTD (else build-bench/bin/roostd, else build/bin/roostd; roostctl
#   is taken beside it), BENCH_ROOT, IMAP_BENCH, SMTP_BENCH,
#   BENCH_JSON_OUT, ROOSTD_ARGS (extra roostd arguments, e.g.
#   "--set password_scrypt_ln=10")
set -euo pipefail

BENCH_NAME=roost-imap
. "$(dirname "$0")/imap_bench_lib.sh"

PORT_BASE=${BENCH_PORT_BASE:-31000}
SMTP_PORT=$((PORT_BASE + 25))
IMAP_PORT=$((PORT_BASE + 43))
ADMIN=127.0.0.1:$((PORT_BASE + 80))
IDLE_TARGET_KB=$((200 * 1024))      # 10,000 IDLE connections < 200 MB
KEEP=no
[ "${1:-}" = "--keep" ] && KEEP=yes

find_roostd() {
	local d
	for d in "${ROOSTD:-}" "$BENCH_TOP/build-bench/bin/roostd" \
	    "$BENCH_TOP/build/bin/roostd"; do
		if [ -n "$d" ] && [ -x "$d" ]; then
			ROOSTD=$d
			ROOSTCTL=$(dirname "$d")/roostctl
			[ -x "$ROOSTCTL" ] || bench_die "$ROOSTCTL not built"
			return 0
		fi
	done
	bench_die "roostd not built (cmake --build build-bench --target" \
	    "roostd roostctl)"
}
find_roostd
ibench_find
bench_find_smtp_bench
command -v curl >/dev/null || bench_die "curl is needed for /healthz"

install -d -m 0755 "${BENCH_ROOT:-/var/tmp/roost-bench}"
RUN_DIR=$(mktemp -d "${BENCH_ROOT:-/var/tmp/roost-bench}/roost-imap.XXXXXX")
DATA=$RUN_DIR/data
LOG=$RUN_DIR/roostd.log
TOKEN=$DATA/admin.token
ROOSTD_PID=

stop_all() {
	local rc=$?
	ibench_idle_stop >/dev/null 2>&1 || true
	bench_watch_stop >/dev/null
	if [ -n "$ROOSTD_PID" ]; then
		bench_log "stopping roostd (pid $ROOSTD_PID)"
		bench_stop_pid "$ROOSTD_PID" 30
		ROOSTD_PID=
	fi
	if [ "$KEEP" = no ] && [ "$rc" -eq 0 ]; then
		rm -rf "$RUN_DIR"
	else
		bench_log "kept $RUN_DIR (log: $LOG)"
	fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

ctl() {
	"$ROOSTCTL" --node "$ADMIN" --token-file "$TOKEN" "$@"
}

# roostd's resident set in KiB.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$ROOSTD_PID/status"
}

start_roostd() {
	local i code
	install -d -m 0700 "$DATA"
	# Each idle connection is a descriptor in roostd too.
	ulimit -n "$(ulimit -Hn)"
	# All connections come from 127.0.0.1: no per-address limits.
	# shellcheck disable=SC2086
	"$ROOSTD" --standalone --data-dir "$DATA" --port-base "$PORT_BASE" \
	    --bind 127.0.0.1 --set smtp.max_connections_per_ip=0 \
	    --set imap.max_connections_per_ip=0 \
	    --set imap.max_connections=$((IMAP_IDLE + 1000)) \
	    ${ROOSTD_ARGS:-} >"$LOG" 2>&1 &
	ROOSTD_PID=$!
	for i in $(seq 1 300); do
		kill -0 "$ROOSTD_PID" 2>/dev/null || {
			tail -20 "$LOG" >&2
			grep -q 'unknown setting imap\.' "$LOG" &&
			    bench_die "$ROOSTD has no IMAP server yet (it" \
			    "refuses the imap.* settings): build a roostd" \
			    "with node/imap wired in"
			bench_die "roostd exited during start-up"
		}
		code=$(curl -s -o /dev/null -w '%{http_code}' \
		    "http://$ADMIN/healthz" || true)
		[ "$code" = 200 ] && break
		sleep 0.1
	done
	[ "$code" = 200 ] || bench_die "roostd: /healthz not 200 after 30 s"
	[ -s "$TOKEN" ] || bench_die "roostd wrote no $TOKEN"
	bench_log "roostd running (pid $ROOSTD_PID, data $DATA)"
}

# Roost's IMAP server must answer with an OK greeting; until it is wired
# into roostd, say so instead of measuring nothing.
check_imap() {
	local greeting=
	if exec 3<>"/dev/tcp/127.0.0.1/$IMAP_PORT"; then
		IFS= read -r -t 5 greeting <&3 || true
		exec 3<&-
	fi
	case $greeting in
	"* OK"*) bench_log "IMAP greeting: ${greeting%$'\r'}" ;;
	*)
		bench_die "roostd answers no IMAP on 127.0.0.1:$IMAP_PORT" \
		    "(greeting: '${greeting%$'\r'}'): is node/imap wired into" \
		    "roostd in this build? (git log --oneline -- node/imap)" ;;
	esac
}

make_users() {
	local i n
	n=$IMAP_U
	[ "$IMAP_IDLE_USERS" -gt "$n" ] && n=$IMAP_IDLE_USERS
	ctl domain add "$BENCH_DOMAIN" >/dev/null
	for i in $(seq 1 "$n"); do
		printf '%s\n' "$IMAP_PASS" |
		    ctl user add "user$i@$BENCH_DOMAIN" --password-stdin >/dev/null
	done
	bench_log "created $BENCH_DOMAIN with user1..user$n"
}

# P messages for each of user1..userU over SMTP: smtp_bench sends message
# K to user(1 + K mod U). A 250 from Roost means stored.
populate() {
	local n=$((IMAP_U * IMAP_P))
	bench_log "delivering $n messages of $IMAP_SIZE bytes over SMTP"
	"$SMTP_BENCH" --host 127.0.0.1 --port "$SMTP_PORT" -n "$n" \
	    -s "$IMAP_SIZE" -c 20 -u "$IMAP_U" --domain "$BENCH_DOMAIN" \
	    --pipelining >"$RUN_DIR/populate.out" ||
	    { cat "$RUN_DIR/populate.out" >&2; bench_die "delivery failed"; }
}

measure_sessions() {
	local run t0 t1 tck rc=0
	tck=$(getconf CLK_TCK)
	bench_log "warm-up: opening every mailbox once"
	ibench_pass "$IMAP_PORT" --fetch '(UID RFC822.SIZE)' --store '' \
	    --search '' || bench_die "warm-up failed (log: $LOG)"
	for run in $(seq 1 "$BENCH_RUNS"); do
		ibench_pass "$IMAP_PORT" --fetch '' \
		    --store '-FLAGS.SILENT (\Seen)' --search '' ||
		    bench_die "clearing \\Seen failed (log: $LOG)"
		bench_wait_quiet
		echo "--- run $run, sessions ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		t0=$(ibench_cpu_ticks "$ROOSTD_PID")
		ibench_run_sessions "$IMAP_PORT" || rc=1
		t1=$(ibench_cpu_ticks "$ROOSTD_PID")
		echo "  roostd cpu   $(awk -v t=$((t1 - t0)) -v h="$tck" \
		    -v s="$IMAP_S" 'BEGIN { printf "%.2f s, %.1f ms a session", \
		    t / h, t / h * 1000 / s }') (user + system, all threads)"
	done
	return "$rc"
}

measure_idle() {
	local before after n rc=0
	sleep 2
	before=$(rss_kb)
	echo "--- idle, $IMAP_IDLE connections for $IMAP_IDLE_USERS users" \
	    "($(date -u '+%Y-%m-%d %H:%M UTC'))"
	IBENCH_IDLE_EARLY=no
	ibench_idle_start "$IMAP_PORT" || rc=1
	sleep "$IMAP_HOLD"
	n=$(ibench_idle_count "$IMAP_PORT")
	after=$(rss_kb)
	ibench_idle_stop
	echo "  roostd RSS   $before KiB before, $after KiB with $n" \
	    "connections established (early stop for memory: $IBENCH_IDLE_EARLY)"
	echo "$before $after $n" | awk -v t="$IDLE_TARGET_KB" '{ if ($3 > 0)
	    printf "  per conn     %.1f KiB; 10,000 would add %.0f MB" \
	    " (target: %d MB in all, %s)\n", ($2 - $1) / $3,
	    ($2 - $1) / $3 * 10000 / 1024, t / 1024,
	    ($1 + ($2 - $1) / $3 * 10000 < t ? "met" : "NOT met") }'
	return "$rc"
}

bench_machine "$RUN_DIR"
start_roostd
check_imap
make_users
populate
FAILED=0
echo "roostd $("$ROOSTD" --version 2>/dev/null || echo '?'); $IMAP_U users x" \
    "$IMAP_P messages of $IMAP_SIZE bytes; $IMAP_S sessions over" \
    "$IMAP_C connections, window $IMAP_M, search $IMAP_SEARCH"
measure_sessions || FAILED=1
[ "$IMAP_IDLE" -gt 0 ] && { measure_idle || FAILED=1; }
echo "roostd RSS after the runs: $(rss_kb) KiB"
kill -0 "$ROOSTD_PID" 2>/dev/null || bench_die "roostd died (log: $LOG)"
exit "$FAILED"
