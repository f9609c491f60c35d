#!/usr/bin/env bash
# ref_smtp_sink.sh: reference (c) of tools/bench/README.md. Postfix's
# smtp-sink on 127.0.0.1:2526 accepts everything and stores nothing: the
# ceiling of an SMTP server on this machine, and a check that smtp_bench
# is not the bottleneck. Measured with smtp_bench (with and without
# PIPELINING) and with Postfix's smtp-source.
#
# usage: tools/bench/ref_smtp_sink.sh
# environment: BENCH_N, BENCH_S, BENCH_C, BENCH_U, BENCH_RUNS, BENCH_LOAD_MAX,
#   BENCH_MODES ("plain pipelining smtp-source"), SMTP_BENCH
set -euo pipefail

BENCH_NAME=smtp-sink
. "$(dirname "$0")/bench_lib.sh"

SINK_PORT=2526
MODES=${BENCH_MODES:-plain pipelining smtp-source}

bench_find_smtp_bench
bench_install_refs
bench_system_services_off

BENCH_SINK_PID=
stop_sink() {
	bench_watch_stop >/dev/null
	[ -n "$BENCH_SINK_PID" ] || return 0
	bench_stop_pid "$BENCH_SINK_PID" 10
	BENCH_SINK_PID=
}
trap stop_sink EXIT
trap 'exit 130' INT TERM

bench_start_sink "$SINK_PORT"

run_smtp_source() {
	local t0 t1 rc=0
	bench_watch_start
	t0=$(bench_now_ms)
	smtp-source -4 -d -s "$BENCH_C" -m "$BENCH_N" -l "$BENCH_S" \
	    -f "$BENCH_FROM" -t "user1@$BENCH_DOMAIN" \
	    "127.0.0.1:$SINK_PORT" || rc=$?
	t1=$(bench_now_ms)
	echo "smtp-source: 127.0.0.1:$SINK_PORT, $BENCH_N messages of" \
	    "$BENCH_S payload bytes + headers, $BENCH_C sessions (-d), exit $rc"
	echo "  accepted     $BENCH_N in $(bench_ms_to_s $((t1 - t0))) s:" \
	    "$(bench_rate "$BENCH_N" $((t1 - t0))) msg/s (until smtp-source exited)"
	bench_watch_stop
	return "$rc"
}

bench_machine /var/tmp
BENCH_N=200 BENCH_JSON_OUT='' bench_run_smtp_bench "$SINK_PORT" >/dev/null ||
    bench_die "warm-up against smtp-sink failed"
FAILED=0
for run in $(seq 1 "$BENCH_RUNS"); do
	for mode in $MODES; do
		bench_wait_quiet
		echo "--- run $run, $mode ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		case $mode in
		plain)
			bench_run_smtp_bench "$SINK_PORT" || FAILED=1 ;;
		pipelining)
			bench_run_smtp_bench "$SINK_PORT" --pipelining ||
			    FAILED=1 ;;
		smtp-source)
			run_smtp_source || FAILED=1 ;;
		*)
			bench_die "unknown mode $mode" ;;
		esac
	done
done
exit "$FAILED"
