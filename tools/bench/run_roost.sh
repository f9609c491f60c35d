#!/usr/bin/env bash
# run_roost.sh: the benchmark of tools/bench/README.md against Roost. Starts
# a standalone roostd on a fresh data directory (ports 30000 + n, on
# 127.0.0.1), creates bench.test with user1..user100, measures it with
# smtp_bench like the references (a 250 from Roost means the message is
# durably stored, so stored = accepted), then measures roostd's resident
# memory with 1,000 idle SMTP sessions open.
#
# usage: tools/bench/run_roost.sh [--keep]
#   --keep   leave the data directory and roostd.log in place afterwards
# environment: BENCH_N, BENCH_S, BENCH_C, BENCH_U, BENCH_RUNS, BENCH_LOAD_MAX,
#   BENCH_MODES ("plain pipelining"), BENCH_IDLE (1000; 0 skips),
#   BENCH_WAIT_STORED=1 (also poll the users' message counts),
#   ROOST_BIN (build/bin), BENCH_ROOT, SMTP_BENCH,
#   ROOSTD_ARGS (extra roostd arguments, e.g. "--set smtp.timeout=600s")
set -euo pipefail

BENCH_NAME=roost
. "$(dirname "$0")/bench_lib.sh"

ROOST_BIN=${ROOST_BIN:-$BENCH_TOP/build/bin}
ROOSTD=$ROOST_BIN/roostd
ROOSTCTL=$ROOST_BIN/roostctl
PORT_BASE=30000
SMTP_PORT=$((PORT_BASE + 25))
ADMIN=127.0.0.1:$((PORT_BASE + 80))
MODES=${BENCH_MODES:-plain pipelining}
IDLE=${BENCH_IDLE:-1000}
KEEP=no
[ "${1:-}" = "--keep" ] && KEEP=yes

[ -x "$ROOSTD" ] || bench_die "$ROOSTD not built"
[ -x "$ROOSTCTL" ] || bench_die "$ROOSTCTL not built"
bench_find_smtp_bench
command -v curl >/dev/null || bench_die "curl is needed for /healthz"

install -d -m 0755 "${BENCH_ROOT:-/var/tmp/roost-bench}"
RUN_DIR=$(mktemp -d "${BENCH_ROOT:-/var/tmp/roost-bench}/roost.XXXXXX")
DATA=$RUN_DIR/data
LOG=$RUN_DIR/roostd.log
TOKEN=$DATA/admin.token
ROOSTD_PID=
IDLE_PID=

stop_all() {
	local rc=$?
	bench_watch_stop >/dev/null
	bench_stop_pid "$IDLE_PID" 10
	IDLE_PID=
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
	# Each idle session is a descriptor in roostd too.
	ulimit -n "$(ulimit -Hn)"
	# The per-address limit (100 by default) would refuse the idle test's
	# 1,000 sessions, which all come from 127.0.0.1.
	# shellcheck disable=SC2086
	"$ROOSTD" --standalone --data-dir "$DATA" --port-base "$PORT_BASE" \
	    --bind 127.0.0.1 --set smtp.max_connections_per_ip=0 \
	    ${ROOSTD_ARGS:-} >"$LOG" 2>&1 &
	ROOSTD_PID=$!
	for i in $(seq 1 300); do
		kill -0 "$ROOSTD_PID" 2>/dev/null || {
			tail -20 "$LOG" >&2
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

make_users() {
	local i
	ctl domain add "$BENCH_DOMAIN" >/dev/null
	for i in $(seq 1 "$BENCH_U"); do
		printf 'bench-%s-%d\n' "$RANDOM" "$i" |
		    ctl user add "user$i@$BENCH_DOMAIN" --password-stdin >/dev/null
	done
	bench_log "created $BENCH_DOMAIN with user1..user$BENCH_U"
}

# Messages stored in bench.test, from the admin API's per-user counts.
COUNT_CMD="'$ROOSTCTL' --node '$ADMIN' --token-file '$TOKEN' user list \
--domain '$BENCH_DOMAIN' --json | grep -o '\"messages\": *[0-9]*' | \
awk -F: '{ s += \$2 } END { print s + 0 }'"

# roostd's memory with $IDLE sessions held open after EHLO.
measure_idle() {
	local before after out i sessions
	out=$RUN_DIR/idle.out
	sleep 2
	before=$(rss_kb)
	"$SMTP_BENCH" --host 127.0.0.1 --port "$SMTP_PORT" --idle "$IDLE" \
	    --timeout 60 >"$out" 2>&1 &
	IDLE_PID=$!
	for i in $(seq 1 600); do
		grep -q 'connections ready' "$out" && break
		kill -0 "$IDLE_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "idle: $IDLE connections ready" "$out" || {
		cat "$out" >&2
		bench_die "smtp_bench --idle: not all $IDLE sessions opened"
	}
	sleep 2
	after=$(rss_kb)
	sessions=$(ctl status --json | grep -o '"smtp": *[0-9]*' |
	    grep -o '[0-9]*$' || echo '?')
	bench_stop_pid "$IDLE_PID" 10
	IDLE_PID=
	echo "--- idle sessions ($(date -u '+%Y-%m-%d %H:%M UTC'))"
	echo "roostd RSS: $before KiB before, $after KiB with $IDLE idle" \
	    "SMTP sessions (status says smtp=$sessions):" \
	    "$(awk -v a="$after" -v b="$before" -v n="$IDLE" \
	        'BEGIN { printf "%.1f", (a - b) / n }') KiB per session"
}

bench_machine "$RUN_DIR"
start_roostd
make_users
BENCH_N=200 BENCH_JSON_OUT='' bench_run_smtp_bench "$SMTP_PORT" >/dev/null ||
    bench_die "warm-up against roostd failed (log: $LOG)"
[ "$IDLE" -gt 0 ] && measure_idle
FAILED=0
for run in $(seq 1 "$BENCH_RUNS"); do
	for mode in $MODES; do
		WAIT=()
		[ "${BENCH_WAIT_STORED:-0}" = 1 ] && WAIT=(--wait-stored "$COUNT_CMD")
		bench_wait_quiet
		echo "--- run $run, $mode ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		bench_store_counters "$ROOSTCTL" "$ADMIN" "$TOKEN" >"$RUN_DIR/store.0"
		case $mode in
		plain)
			bench_run_smtp_bench "$SMTP_PORT" "${WAIT[@]}" ||
			    FAILED=1 ;;
		pipelining)
			bench_run_smtp_bench "$SMTP_PORT" --pipelining \
			    "${WAIT[@]}" || FAILED=1 ;;
		*)
			bench_die "unknown mode $mode" ;;
		esac
		bench_store_counters "$ROOSTCTL" "$ADMIN" "$TOKEN" \
		    >"$RUN_DIR/store.1"
		echo "  store        $(bench_store_report "$RUN_DIR/store.0" \
		    "$RUN_DIR/store.1") (roostd's own counters)"
	done
done
echo "roostd RSS after the runs: $(rss_kb) KiB"
kill -0 "$ROOSTD_PID" 2>/dev/null || bench_die "roostd died (log: $LOG)"
exit "$FAILED"
