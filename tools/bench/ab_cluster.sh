#!/usr/bin/env bash
# ab_cluster.sh: compares roostd builds (or settings) on the replicated
# intake benchmark by pairing them: each round runs run_cluster.sh once
# per variant, in turn (a fresh etcd, three nodes with R = 3 and a
# standalone node each time; one run per side). One line per variant
# and round: the cluster's and the standalone node's msg/s and roostd
# CPU per message; at the end each variant's medians. On this 2-core
# virtual machine two runs of the same build differ by up to 25 %, and
# the drift follows the time of day: only paired rounds tell builds
# apart.
#
# usage: tools/bench/ab_cluster.sh VARIANT VARIANT...
#   VARIANT  DIR (holding roostd and roostctl) or "DIR|ARGS", ARGS being
#            extra roostd arguments of that variant's nodes, e.g.
#            "build-bench/bin|--set store.write_buffer_size=16M"
# environment: AB_ROUNDS (3), and run_cluster.sh's (BENCH_REPLICAS is 3
#   unless set; BENCH_RUNS is 1)
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 DIR[|ARGS]..." >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${AB_ROUNDS:-3}
RES=$(mktemp)
trap 'rm -f "$RES"' EXIT

for r in $(seq 1 "$ROUNDS"); do
	i=0
	for v in "$@"; do
		i=$((i + 1))
		dir=${v%%|*}
		args=
		[ "$dir" != "$v" ] && args=${v#*|}
		# result lines: "<setup> <rate> msg/s p50 . dot . idle . roostd <us> ..."
		line=$(ROOSTD_ARGS="$args" BENCH_REPLICAS=${BENCH_REPLICAS:-3} \
		    BENCH_RUNS=1 ROOSTD="$dir/roostd" "$HERE/run_cluster.sh" 2>&1 |
		    awk '$1 == "result" && $2 == "cluster" { c = $3; cu = $12 }
		         $1 == "result" && $2 == "standalone" { s = $3; su = $12 }
		         END { if (c == "" || s == "") exit 1
		               print c, cu, s, su }') ||
		    { echo "variant $i ($v): run_cluster.sh failed" >&2; exit 1; }
		echo "$i $line" >>"$RES"
		read -r c cu s su <<<"$line"
		printf 'round %d  variant %d (%s): cluster %s msg/s %s us/msg,' \
		    "$r" "$i" "$v" "$c" "$cu"
		printf ' standalone %s msg/s %s us/msg\n' "$s" "$su"
	done
done

# The median of the numbers on stdin, one per line.
median() {
	sort -n | awk '{ v[NR] = $1 }
	    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	          print m }'
}

echo "--- medians of $ROUNDS rounds"
i=0
for v in "$@"; do
	i=$((i + 1))
	m=()
	for col in 2 3 4 5; do
		m+=("$(awk -v i="$i" -v c="$col" '$1 == i { print $c }' "$RES" |
		    median)")
	done
	awk -v i="$i" -v v="$v" -v c="${m[0]}" -v cu="${m[1]}" \
	    -v s="${m[2]}" -v su="${m[3]}" 'BEGIN {
		printf "variant %d (%s): cluster %.1f msg/s %.0f us/msg, ", i, v,
		    c, cu
		printf "standalone %.1f msg/s %.0f us/msg, ratio %.2f\n", s, su,
		    c / s }'
done
