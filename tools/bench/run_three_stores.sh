#!/usr/bin/env bash
# run_three_stores.sh: what storing every message three times costs this
# machine, without replication. Three standalone roostd (port bases
# 30500, 30600, 30700) each take issue 2's load in full at the same time
# (smtp_bench, 20,000 messages x 4 KiB, 100 users, 7 connections
# each), so every message is received and stored three
# times, as R = 3 stores it, with no peer traffic at all; then one of the
# nodes alone takes the load (BENCH_C connections), in the same minutes.
# Alternates the two BENCH_RUNS times.
#
# One line per run: the rate at which all three nodes hold a message
# (20,000 / the slowest generator's time), the rate of the node alone,
# and the CPU per message of the roostd processes by thread name. The
# three nodes also receive and parse each message three times and run
# three generators, which R = 3 does once: the three-store rate is a
# floor for a cluster whose replication cost nothing, and the store
# threads' figures plus a third of the loop threads' are that cluster's
# CPU per message (tools/bench/README.md, "Session 11").
#
# usage: tools/bench/run_three_stores.sh
# environment: BENCH_RUNS (3), BENCH_N, BENCH_C (20: the node alone),
#   BENCH_THREE_C (7: each of the three), BENCH_U,
#   BENCH_SETTLE (5), BENCH_PORT_BASE (30400), ROOSTD (else
#   build-bench/bin/roostd, else build/bin/roostd), BENCH_ROOT
set -euo pipefail

BENCH_NAME="three-stores"
BENCH_RUNS=${BENCH_RUNS:-3}
. "$(dirname "$0")/bench_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

SETTLE=${BENCH_SETTLE:-5}
THREE_C=${BENCH_THREE_C:-7}
clu_find_roost
bench_find_smtp_bench
command -v curl >/dev/null || bench_die "curl is needed for /healthz"

install -d -m 0755 "${BENCH_ROOT:-/var/tmp/roost-bench}"
RUN_DIR=$(mktemp -d "${BENCH_ROOT:-/var/tmp/roost-bench}/three.XXXXXX")
PIDS=()

finish() {
	local rc=$? p
	for p in "${PIDS[@]}"; do
		bench_stop_pid "$p" 30
	done
	if [ "$rc" -eq 0 ]; then
		rm -rf "$RUN_DIR"
	else
		bench_log "kept $RUN_DIR (logs: n*/roostd.log)"
	fi
}
trap finish EXIT
trap 'exit 130' INT TERM

base_of() {
	echo $((CLU_PORT_BASE + 100 * ($1 + 4)))
}

for i in 1 2 3; do
	d=$RUN_DIR/n$i
	install -d -m 0700 "$d/data"
	mapfile -t args < <(clu_node_args)
	"$ROOSTD" --standalone --data-dir "$d/data" --port-base "$(base_of "$i")" \
	    "${args[@]}" >"$d/roostd.log" 2>&1 &
	PIDS+=($!)
	clu_wait_healthz $(($(base_of "$i") + 80)) "$!" "roostd n$i" \
	    "$d/roostd.log"
	CLU_SA_BASE=$(base_of "$i") CLU_SA_TOKEN=$d/data/admin.token \
	    clu_make_users 0 "$BENCH_U" "bench-three-pw"
done
bench_log "three standalone nodes running (pids ${PIDS[*]})"

# CPU ticks per message by thread name between thread files $1 and $2
# over $3 messages: "name=us ..." on one line.
per_msg() {
	join "$1" "$2" | awk -v n="$3" -v hz="$(getconf CLK_TCK)" '
		{ printf "%s%s=%.0fus", sep, $1, ($3 - $2) * 1e6 / hz / n
		  sep = " " }'
}

RES=$RUN_DIR/results
for run in $(seq 1 "$BENCH_RUNS"); do
	# All three at once: each generator sends the whole load.
	sleep "$SETTLE"
	bench_wait_quiet
	clu_thread_ticks "${PIDS[@]}" >"$RUN_DIR/thr.0"
	t0=$(bench_now_ms)
	gens=()
	for i in 1 2 3; do
		"$SMTP_BENCH" --host 127.0.0.1 --port $(($(base_of "$i") + 25)) \
		    -n "$BENCH_N" -s "$BENCH_S" -c "$THREE_C" -u "$BENCH_U" \
		    --domain "$BENCH_DOMAIN" --from "$BENCH_FROM" \
		    >"$RUN_DIR/out.$run.$i" 2>&1 &
		gens+=($!)
	done
	for g in "${gens[@]}"; do
		wait "$g" || { cat "$RUN_DIR/out.$run".*; bench_die "smtp_bench failed"; }
	done
	t1=$(bench_now_ms)
	clu_thread_ticks "${PIDS[@]}" >"$RUN_DIR/thr.1"
	three=$(bench_rate "$BENCH_N" $((t1 - t0)))
	three_thr=$(per_msg "$RUN_DIR/thr.0" "$RUN_DIR/thr.1" "$BENCH_N")

	# One node alone, all connections.
	sleep "$SETTLE"
	bench_wait_quiet
	clu_thread_ticks "${PIDS[0]}" >"$RUN_DIR/thr.0"
	t0=$(bench_now_ms)
	"$SMTP_BENCH" --host 127.0.0.1 --port $(($(base_of 1) + 25)) \
	    -n "$BENCH_N" -s "$BENCH_S" -c "$BENCH_C" -u "$BENCH_U" \
	    --domain "$BENCH_DOMAIN" --from "$BENCH_FROM" \
	    >"$RUN_DIR/one.$run" 2>&1 || { cat "$RUN_DIR/one.$run"; bench_die "smtp_bench failed"; }
	t1=$(bench_now_ms)
	clu_thread_ticks "${PIDS[0]}" >"$RUN_DIR/thr.1"
	one=$(bench_rate "$BENCH_N" $((t1 - t0)))
	one_thr=$(per_msg "$RUN_DIR/thr.0" "$RUN_DIR/thr.1" "$BENCH_N")

	echo "run $run  three stores $three msg/s ($three_thr)"
	echo "run $run  one node     $one msg/s ($one_thr)"
	echo "$three $one" >>"$RES"
done
T=$(awk '{ print $1 }' "$RES" | clu_median)
O=$(awk '{ print $2 }' "$RES" | clu_median)
printf -- '--- medians of %s runs: three stores %.1f msg/s, one node %.1f ' \
    "$BENCH_RUNS" "$T" "$O"
printf 'msg/s: %.2f\n' "$(echo "$T / $O" | bc -l)"
