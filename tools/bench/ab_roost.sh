#!/usr/bin/env bash
# ab_roost.sh: compares two roostd binaries on the SMTP benchmark by
# interleaving them: each round starts a fresh roostd of A, then of B
# (standalone, ports 30000 + n, 100 users), and runs smtp_bench three
# times against each. One line per run: msg/s, p50 of the whole message
# and of the end of data, the machine's idle cores, and the CPU each of
# roostd's threads (by name) spent per message. On this kind of shared
# machine two sessions of the same binary differ by ±20 %: only
# interleaved runs tell builds apart.
#
# usage: tools/bench/ab_roost.sh ROOSTD_A ROOSTD_B
# environment: AB_ROUNDS (2), AB_RUNS (3), BENCH_N (20000), ROOST_BIN (for
#   roostctl, default build/bin), SMTP_BENCH, ROOSTD_ARGS
set -euo pipefail

BENCH_NAME=ab
. "$(dirname "$0")/bench_lib.sh"

[ $# -eq 2 ] || bench_die "usage: $0 ROOSTD_A ROOSTD_B"
BIN_A=$1
BIN_B=$2
ROOSTCTL=${ROOST_BIN:-$BENCH_TOP/build/bin}/roostctl
if [ ! -x "$BIN_A" ] || [ ! -x "$BIN_B" ]; then
	bench_die "roostd binaries not found"
fi
[ -x "$ROOSTCTL" ] || bench_die "$ROOSTCTL not built"
bench_find_smtp_bench

install -d -m 0755 "${BENCH_ROOT:-/var/tmp/roost-bench}"
RUN_DIR=$(mktemp -d "${BENCH_ROOT:-/var/tmp/roost-bench}/ab.XXXXXX")
PID=
stop_roostd() {
	bench_stop_pid "$PID" 30
	PID=
}
trap 'stop_roostd; rm -rf "$RUN_DIR"' EXIT
trap 'exit 130' INT TERM

start_roostd() {
	local data=$RUN_DIR/data i
	rm -rf "$data"
	install -d -m 0700 "$data"
	# shellcheck disable=SC2086
	"$1" --standalone --data-dir "$data" --port-base 30000 \
	    --bind 127.0.0.1 --set smtp.max_connections_per_ip=0 \
	    ${ROOSTD_ARGS:-} >"$RUN_DIR/roostd.log" 2>&1 &
	PID=$!
	for i in $(seq 1 300); do
		curl -s -o /dev/null http://127.0.0.1:30080/healthz && break
		sleep 0.1
	done
	"$ROOSTCTL" --node 127.0.0.1:30080 --token-file "$data/admin.token" \
	    domain add "$BENCH_DOMAIN" >/dev/null
	for i in $(seq 1 "$BENCH_U"); do
		echo "ab-$RANDOM-$i" | "$ROOSTCTL" --node 127.0.0.1:30080 \
		    --token-file "$data/admin.token" user add \
		    "user$i@$BENCH_DOMAIN" --password-stdin >/dev/null
	done
	"$SMTP_BENCH" --host 127.0.0.1 --port 30025 -n 200 -s "$BENCH_S" \
	    -c "$BENCH_C" -u "$BENCH_U" --domain "$BENCH_DOMAIN" \
	    --from "$BENCH_FROM" >/dev/null
}

# CPU ticks per thread name of roostd, "name ticks" sorted by name.
thread_ticks() {
	local t
	for t in /proc/"$PID"/task/*; do
		printf '%s %s\n' "$(tr ' ' _ <"$t/comm")" \
		    "$(awk '{ print $14 + $15 }' "$t/stat")"
	done | awk '{ a[$1] += $2 } END { for (k in a) print k, a[k] }' |
	    sort
}

run_once() {
	local out=$RUN_DIR/out s0=$RUN_DIR/s0 s1=$RUN_DIR/s1 i0 i1 t0 t1
	thread_ticks >"$s0"
	i0=$(awk '/^cpu / { print $5 + $6 }' /proc/stat)
	t0=$(date +%s.%N)
	"$SMTP_BENCH" --host 127.0.0.1 --port 30025 -n "$BENCH_N" \
	    -s "$BENCH_S" -c "$BENCH_C" -u "$BENCH_U" \
	    --domain "$BENCH_DOMAIN" --from "$BENCH_FROM" >"$out"
	t1=$(date +%s.%N)
	i1=$(awk '/^cpu / { print $5 + $6 }' /proc/stat)
	thread_ticks >"$s1"
	printf '%s  %s  p50 %s  dot %s  idle %s  cpu/msg: %s\n' "$1" \
	    "$(grep -o '[0-9.]* msg/s' "$out")" \
	    "$(awk '/latency ms/ { print $4 }' "$out")" \
	    "$(awk '/end of data/ { print $5 }' "$out")" \
	    "$(awk -v a="$i0" -v b="$i1" -v t0="$t0" -v t1="$t1" \
	        'BEGIN { printf "%.2f", (b - a) / 100 / (t1 - t0) }')" \
	    "$(join "$s0" "$s1" | awk -v n="$BENCH_N" \
	        '$3 > $2 { printf "%s=%.0fus ", $1, ($3 - $2) * 10000 / n }')"
}

for _ in $(seq 1 "${AB_ROUNDS:-2}"); do
	for v in A B; do
		bin=$BIN_A
		[ "$v" = B ] && bin=$BIN_B
		start_roostd "$bin"
		for _ in $(seq 1 "${AB_RUNS:-3}"); do
			run_once "$v"
		done
		stop_roostd
	done
done
