#!/usr/bin/env bash
# run_roost_select.sh: SELECT of a big mailbox. Starts a standalone roostd
# on a fresh data directory (ports 30000 + n), delivers BENCH_N messages
# (default 100,000 of 1 KiB) to one user with smtp_bench, then times
# SELECT with tools/bench/select_time.py: 20 sessions just after the load
# and 30 s later, and the first SELECT after a restart (cold caches in
# roostd; the OS page cache is warm, as on a server that restarts).
#
# usage: tools/bench/run_roost_select.sh
# environment: BENCH_N (100000), BENCH_S (1K), ROOST_BIN (build/bin),
#   BENCH_ROOT, SMTP_BENCH
set -euo pipefail
# shellcheck disable=SC2034  # read by bench_lib.sh
BENCH_NAME=roost-select
BENCH_N=${BENCH_N:-100000}
BENCH_S=${BENCH_S:-1K}
. "$(dirname "$0")/bench_lib.sh"
ROOST_BIN=${ROOST_BIN:-$BENCH_TOP/build/bin}
PORT_BASE=30000
ADMIN=127.0.0.1:$((PORT_BASE + 80))
USER_ADDR=user1@$BENCH_DOMAIN
PASS=bench-select
bench_find_smtp_bench
[ -x "$ROOST_BIN/roostd" ] || bench_die "$ROOST_BIN/roostd not built"

install -d -m 0755 "${BENCH_ROOT:-/var/tmp/roost-bench}"
RUN_DIR=$(mktemp -d "${BENCH_ROOT:-/var/tmp/roost-bench}/select.XXXXXX")
DATA=$RUN_DIR/data
PID=

stop() {
	[ -n "$PID" ] && bench_stop_pid "$PID" 30
	PID=
}
trap 'stop; rm -rf "$RUN_DIR"' EXIT

start() {
	local i
	"$ROOST_BIN/roostd" --standalone --data-dir "$DATA" \
	    --port-base "$PORT_BASE" --bind 127.0.0.1 >>"$RUN_DIR/roostd.log" 2>&1 &
	PID=$!
	for i in $(seq 1 300); do
		curl -sf -o /dev/null "http://$ADMIN/healthz" && return 0
		sleep 0.1
	done
	bench_die "roostd did not become healthy"
}

ctl() {
	"$ROOST_BIN/roostctl" --node "$ADMIN" --token-file "$DATA/admin.token" "$@"
}

start
ctl domain add "$BENCH_DOMAIN" >/dev/null
echo "$PASS" | ctl user add "$USER_ADDR" --password-stdin >/dev/null
bench_log "delivering $BENCH_N messages of $BENCH_S to $USER_ADDR"
"$SMTP_BENCH" --port $((PORT_BASE + 25)) -n "$BENCH_N" -s "$BENCH_S" -c 20 \
    -u 1 --domain "$BENCH_DOMAIN" --pipelining >/dev/null
sel() {
	/usr/bin/python3 "$BENCH_TOP/tools/bench/select_time.py" 127.0.0.1 \
	    $((PORT_BASE + 43)) "$USER_ADDR" "$PASS" "$1"
}
# Right after the load the index's newest versions are still in the
# memtable and compactions run: the worst case for a busy server.
bench_log "just after delivery: $(sel 20)"
sleep 30
bench_log "30 s later: $(sel 20)"
stop
start
bench_log "after a restart: $(sel 5)"
