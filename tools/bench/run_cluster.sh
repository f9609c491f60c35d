#!/usr/bin/env bash
# run_cluster.sh: issue #4's SMTP target, a three-node cluster against one
# standalone node in the same minutes. Starts a private etcd (free ports
# from 32379), creates the cluster (roostctl cluster init --partitions 64
# --replicas 1), three roostd --cluster nodes on 127.0.0.1 (port bases
# 30100, 30200, 30300), node add each, cluster wait, then bench.test with
# user1..user100; and beside it a standalone roostd (port base 30400)
# with the same users. Then interleaves issue 2's load (smtp_bench,
# 20,000 messages x 4 KiB, 20 connections, 100 users): cluster,
# standalone, cluster, standalone ... BENCH_RUNS times each. Against the
# cluster the connections are spread evenly over the three SMTP ports
# (smtp_bench --port P1,P2,P3), so about two copies in three go to their
# account's primary on another node by a Deliver call.
#
# One line per run: msg/s, latency p50 and end-of-data p50, the machine's
# idle cores, the CPU of all roostd processes per message (per node for
# the cluster, and etcd's), and per thread name. At the end each side's
# median and the ratio cluster / standalone (target: at least 0.7). The
# three nodes, the standalone node and the generator share the machine's
# cores.
#
# usage: tools/bench/run_cluster.sh [--keep]
#   --keep   leave the data directories and logs in place afterwards
#            (they are kept anyway when something failed)
# environment: BENCH_N, BENCH_S, BENCH_C, BENCH_U, BENCH_RUNS (3),
#   BENCH_LOAD_MAX, BENCH_LOAD_WAIT (120 here), BENCH_SETTLE (seconds of
#   rest before each run, 5), BENCH_PORT_BASE (30000), BENCH_ETCD_PORT
#   (32379), BENCH_PIPELINING=1 (smtp_bench --pipelining), BENCH_PERF=1
#   (profile each run with perf into the run directory: use with --keep;
#   the profiler's cost is in that run's figures; BENCH_PERF_CG=dwarf
#   where frame pointers are missing), BENCH_SYSCALLS=1 (system calls per
#   message of each node, by perf trace: slows the run), ROOSTD (else
#   build-bench/bin/roostd, else build/bin/roostd), ROOST_ETCD, BENCH_ROOT,
#   SMTP_BENCH, BENCH_JSON_OUT, ROOSTD_ARGS (extra arguments of every node)
set -euo pipefail

BENCH_NAME=cluster
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_LOAD_WAIT=${BENCH_LOAD_WAIT:-120}
. "$(dirname "$0")/bench_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

SETTLE=${BENCH_SETTLE:-5}
KEEP=no
[ "${1:-}" = "--keep" ] && KEEP=yes
SMTP_OPTS=()
[ "${BENCH_PIPELINING:-0}" = 1 ] && SMTP_OPTS=(--pipelining)

clu_find_roost
clu_find_etcd
bench_find_smtp_bench
command -v curl >/dev/null || bench_die "curl is needed for /healthz"

install -d -m 0755 "${BENCH_ROOT:-/var/tmp/roost-bench}"
RUN_DIR=$(mktemp -d "${BENCH_ROOT:-/var/tmp/roost-bench}/cluster.XXXXXX")
RUNS=$RUN_DIR/runs

finish() {
	local rc=$?
	bench_watch_stop >/dev/null
	clu_stop_all
	if [ "$KEEP" = no ] && [ "$rc" -eq 0 ]; then
		rm -rf "$RUN_DIR"
	else
		bench_log "kept $RUN_DIR (logs: */roostd.log, etcd.log)"
	fi
}
trap finish EXIT
trap 'exit 130' INT TERM

SMTP_PORTS=
for i in $(seq 1 "$CLU_NODES"); do
	SMTP_PORTS=$SMTP_PORTS${SMTP_PORTS:+,}$(($(clu_base "$i") + 25))
done
SA_SMTP_PORT=$((CLU_SA_BASE + 25))

# The roostd pids of setup $1 (cluster|standalone), on one line.
setup_pids() {
	if [ "$1" = cluster ]; then
		clu_node_pids
	else
		echo "$CLU_SA_PID"
	fi
}

setup_ports() {
	if [ "$1" = cluster ]; then
		echo "$SMTP_PORTS"
	else
		echo "$SA_SMTP_PORT"
	fi
}

# The share of messages that reach their account's primary by a Deliver
# call, expected from how many messages entered each node (smtp_bench's
# per-port counts, $1 as "a b c") and how many users each node is the
# primary of ($RUN_DIR/primaries), users being equally likely.
deliver_share() {
	awk -v acc="$1" -v nodes="$CLU_NODES" '
		{ users[$2]++; total++ }
		END {
			k = split(acc, a, " ")
			for (i = 1; i <= k; i++) n += a[i]
			for (i = 1; i <= k; i++)
				local_share += a[i] / n * users["n" i] / total
			printf "%.2f", 1 - local_share
		}' "$RUN_DIR/primaries"
}

# One run of smtp_bench against setup $1 (cluster|standalone), run $2.
run_once() {
	local setup=$1 run=$2 pids out=$RUN_DIR/out i0 i1 t0 t1 e0=0 e1=0
	local c0=() c1=() rate n per_node="" i acc share="" p total label
	read -r -a pids <<<"$(setup_pids "$setup")"
	sleep "$SETTLE"
	bench_wait_quiet
	echo "--- $setup, run $run ($(date -u '+%Y-%m-%d %H:%M:%S UTC'))"
	for p in "${pids[@]}"; do
		bench_store_counters "$ROOSTCTL" \
		    "127.0.0.1:$(($(port_base_of "$setup" "$p") + 80))" \
		    "$(token_of "$setup")" >"$RUN_DIR/store.$p.0"
		c0+=("$(clu_cpu_ticks "$p")")
	done
	clu_thread_ticks "${pids[@]}" >"$RUN_DIR/thr.0"
	[ "$setup" = cluster ] && e0=$(clu_cpu_ticks "$CLU_ETCD_PID")
	i0=$(clu_idle_ticks)
	t0=$(date +%s.%N)
	clu_perf_start "$RUN_DIR/perf.$setup.$run.data" "${pids[@]}"
	clu_syscalls_start "$RUN_DIR/trace.$setup.$run" "${pids[@]}"
	bench_run_smtp_bench "$(setup_ports "$setup")" "${SMTP_OPTS[@]}" \
	    >"$out" || { cat "$out"; bench_die "smtp_bench failed"; }
	t1=$(date +%s.%N)
	i1=$(clu_idle_ticks)
	[ "$setup" = cluster ] && e1=$(clu_cpu_ticks "$CLU_ETCD_PID")
	clu_thread_ticks "${pids[@]}" >"$RUN_DIR/thr.1"
	for p in "${pids[@]}"; do
		c1+=("$(clu_cpu_ticks "$p")")
		bench_store_counters "$ROOSTCTL" \
		    "127.0.0.1:$(($(port_base_of "$setup" "$p") + 80))" \
		    "$(token_of "$setup")" >"$RUN_DIR/store.$p.1"
	done
	cat "$out"
	n=$(awk '/^  accepted / { print $2 }' "$out")
	rate=$(grep -o '[0-9.]* msg/s' "$out" | head -1 | cut -d' ' -f1)
	total=0
	for i in "${!pids[@]}"; do
		total=$((total + c1[i] - c0[i]))
		[ "$setup" = cluster ] && per_node="$per_node n$((i + 1)) $(awk \
		    -v t=$((c1[i] - c0[i])) -v n="$n" \
		    'BEGIN { printf "%.0f", t * 1e6 / 100 / n }')"
		label=store
		[ "$setup" = cluster ] && label="store n$((i + 1))"
		printf '  %-12s %s\n' "$label" "$(bench_store_report \
		    "$RUN_DIR/store.${pids[i]}.0" "$RUN_DIR/store.${pids[i]}.1")"
	done
	if [ "$setup" = cluster ]; then
		acc=$(awk '/^  per port / { print $3, $4, $5 }' "$out")
		share=$(deliver_share "$acc")
	fi
	# CLK_TCK is 100 on Linux: one tick is 10 ms.
	awk -v s="$setup" -v r="$rate" -v n="$n" -v t="$total" \
	    -v e=$((e1 - e0)) -v nodes="$per_node" -v share="$share" \
	    -v i0="$i0" -v i1="$i1" -v t0="$t0" -v t1="$t1" \
	    -v p50="$(awk '/latency ms/ { print $4 }' "$out")" \
	    -v dot="$(awk '/end of data/ { print $5 }' "$out")" 'BEGIN {
		printf "%s %s msg/s  p50 %s  dot %s  idle %.2f  roostd %.0f" \
		    " us/msg", s, r, p50, dot, (i1 - i0) / 100 / (t1 - t0),
		    t * 1e6 / 100 / n
		if (nodes != "")
			printf " (%s; etcd %.0f; Deliver share %s)", \
			    substr(nodes, 2), e * 1e6 / 100 / n, share
		printf "\n"
	}' | tee -a "$RUNS" | sed 's/^/  result       /'
	echo "  threads      $(join "$RUN_DIR/thr.0" "$RUN_DIR/thr.1" |
	    awk -v n="$n" '$3 > $2 { printf "%s=%.0fus ", $1,
	        ($3 - $2) * 1e6 / 100 / n }')(CPU per message by thread name," \
	    "summed over the setup's nodes)"
	clu_perf_stop
	clu_syscalls_stop "$n" | sed 's/per session/per message/'
}

# The port base of roostd pid $2 in setup $1.
port_base_of() {
	local i
	if [ "$1" = standalone ]; then
		echo "$CLU_SA_BASE"
		return
	fi
	for i in $(seq 1 "$CLU_NODES"); do
		[ "${CLU_PIDS[i]}" = "$2" ] && { clu_base "$i"; return; }
	done
}

token_of() {
	if [ "$1" = standalone ]; then
		echo "$CLU_SA_TOKEN"
	else
		echo "$CLU_TOKEN"
	fi
}

bench_machine "$RUN_DIR"
echo "roostd $ROOSTD (checkout $(git -C "$BENCH_TOP" rev-parse --short HEAD \
    2>/dev/null || echo '?'));" \
    "$(nproc) cores shared by $CLU_NODES cluster nodes, etcd, the" \
    "standalone node and the generator"
clu_start_cluster "$RUN_DIR/cluster"
clu_make_users 1 "$BENCH_U" "bench-cluster-pw"
clu_user_primaries >"$RUN_DIR/primaries"
echo "users per primary: $(awk '{ print $2 }' "$RUN_DIR/primaries" |
    sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')" \
    "(of $BENCH_U users in $(awk '{ print $3 }' "$RUN_DIR/primaries" |
    sort -u | wc -l) partitions)"
clu_start_standalone "$RUN_DIR/standalone"
clu_make_users 0 "$BENCH_U" "bench-standalone-pw"
bench_log "created $BENCH_DOMAIN with user1..user$BENCH_U on both"
for setup in cluster standalone; do
	BENCH_N=200 BENCH_JSON_OUT='' bench_run_smtp_bench \
	    "$(setup_ports "$setup")" >/dev/null ||
	    bench_die "warm-up against the $setup failed"
done

: >"$RUNS"
for run in $(seq 1 "$BENCH_RUNS"); do
	for setup in cluster standalone; do
		run_once "$setup" "$run"
	done
done
for p in $(clu_node_pids) "$CLU_SA_PID" "$CLU_ETCD_PID"; do
	kill -0 "$p" 2>/dev/null || bench_die "process $p died"
done

MC=$(awk '$1 == "cluster" { print $2 }' "$RUNS" | clu_median)
MS=$(awk '$1 == "standalone" { print $2 }' "$RUNS" | clu_median)
CC=$(awk '$1 == "cluster" { print $11 }' "$RUNS" | clu_median)
CS=$(awk '$1 == "standalone" { print $11 }' "$RUNS" | clu_median)
echo "--- medians of $BENCH_RUNS runs each (interleaved)"
printf 'cluster     %8.1f msg/s  %5.0f us of roostd CPU per message\n' \
    "$MC" "$CC"
printf 'standalone  %8.1f msg/s  %5.0f us of roostd CPU per message\n' \
    "$MS" "$CS"
# Issue #4's target with one copy of each partition, #5's with three.
TARGET=0.7
[ "$CLU_REPLICAS" -gt 1 ] && TARGET=0.5
awk -v c="$MC" -v s="$MS" -v cc="$CC" -v cs="$CS" -v t="$TARGET" 'BEGIN {
	printf "cluster / standalone: %.2f of the rate (target >= %s, %s)," \
	    " %.2f x the CPU per message\n", c / s, t,
	    (c / s >= t ? "met" : "NOT met"), cc / cs
}'
