#!/usr/bin/env bash
# ab_roost.sh: compares two roostd binaries on the SMTP benchmark by
# interleaving them: each round starts a fresh roostd of A, then of B
# (standalone, ports 30000 + n, 100 users), and runs smtp_bench three
# times against each. One line per run: msg/s, p50 of the whole message
# and of the end of data, the machine's idle cores, the CPU each of the
# server's threads (by name) spent per message, and for roostd what its
# store counters say (deliveries per sync, mean commit and sync time); at
# the end each side's median rate and B's over A's. On this kind of
# shared machine two sessions of the same binary differ by ±20 % and
# smtp-sink's rate moves 2x across a day: only interleaved runs tell
# builds apart, or give Roost's ratio to smtp-sink.
#
# Either side may be the word smtp-sink instead of a binary: Postfix's
# smtp-sink on the same port (tools/bench/ref_smtp_sink.sh installs it),
# so that "ab_roost.sh smtp-sink build/bin/roostd" measures the issue's
# ratio in the same minutes.
#
# usage: tools/bench/ab_roost.sh ROOSTD_A|smtp-sink ROOSTD_B|smtp-sink
# environment: AB_ROUNDS (2), AB_RUNS (3), BENCH_N (20000), BENCH_C (20),
#   ROOST_BIN (for roostctl, default build/bin), SMTP_BENCH, ROOSTD_ARGS
set -euo pipefail

BENCH_NAME=ab
. "$(dirname "$0")/bench_lib.sh"

[ $# -eq 2 ] || bench_die "usage: $0 ROOSTD_A|smtp-sink ROOSTD_B|smtp-sink"
BIN_A=$1
BIN_B=$2
ROOSTCTL=${ROOST_BIN:-$BENCH_TOP/build/bin}/roostctl
for bin in "$BIN_A" "$BIN_B"; do
	if [ "$bin" = smtp-sink ]; then
		command -v smtp-sink >/dev/null ||
		    bench_die "smtp-sink not installed (ref_smtp_sink.sh installs it)"
	elif [ ! -x "$bin" ]; then
		bench_die "$bin: no such roostd binary"
	else
		[ -x "$ROOSTCTL" ] || bench_die "$ROOSTCTL not built"
	fi
done
bench_find_smtp_bench

install -d -m 0755 "${BENCH_ROOT:-/var/tmp/roost-bench}"
RUN_DIR=$(mktemp -d "${BENCH_ROOT:-/var/tmp/roost-bench}/ab.XXXXXX")
PID=
stop_server() {
	bench_stop_pid "$PID" 30
	PID=
}
trap 'stop_server; rm -rf "$RUN_DIR"' EXIT
trap 'exit 130' INT TERM

warm_up() {
	"$SMTP_BENCH" --host 127.0.0.1 --port 30025 -n 200 -s "$BENCH_S" \
	    -c "$BENCH_C" -u "$BENCH_U" --domain "$BENCH_DOMAIN" \
	    --from "$BENCH_FROM" >/dev/null
}

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
	warm_up
}

# smtp-sink or a fresh roostd of binary $1, warmed up.
start_server() {
	if [ "$1" = smtp-sink ]; then
		bench_start_sink 30025
		PID=$BENCH_SINK_PID
		warm_up
	else
		start_roostd "$1"
	fi
}

# CPU ticks per thread name of the server, "name ticks" sorted by name.
thread_ticks() {
	local t
	for t in /proc/"$PID"/task/*; do
		printf '%s %s\n' "$(tr ' ' _ <"$t/comm")" \
		    "$(awk '{ print $14 + $15 }' "$t/stat")"
	done | awk '{ a[$1] += $2 } END { for (k in a) print k, a[k] }' |
	    sort
}

# The store counters of the running server $1; nothing for smtp-sink.
store_counters() {
	[ "$1" = smtp-sink ] ||
	    bench_store_counters "$ROOSTCTL" 127.0.0.1:30080 \
	        "$RUN_DIR/data/admin.token"
}

# One run against server $2 (a binary or smtp-sink), its line labelled $1.
run_once() {
	local out=$RUN_DIR/out s0=$RUN_DIR/s0 s1=$RUN_DIR/s1 i0 i1 t0 t1 store=
	store_counters "$2" >"$RUN_DIR/store.0"
	thread_ticks >"$s0"
	i0=$(awk '/^cpu / { print $5 + $6 }' /proc/stat)
	t0=$(date +%s.%N)
	"$SMTP_BENCH" --host 127.0.0.1 --port 30025 -n "$BENCH_N" \
	    -s "$BENCH_S" -c "$BENCH_C" -u "$BENCH_U" \
	    --domain "$BENCH_DOMAIN" --from "$BENCH_FROM" >"$out"
	t1=$(date +%s.%N)
	i1=$(awk '/^cpu / { print $5 + $6 }' /proc/stat)
	thread_ticks >"$s1"
	store_counters "$2" >"$RUN_DIR/store.1"
	[ "$2" = smtp-sink ] || store=" store: $(bench_store_report \
	    "$RUN_DIR/store.0" "$RUN_DIR/store.1")"
	printf '%s  %s  p50 %s  dot %s  idle %s  cpu/msg: %s%s\n' "$1" \
	    "$(grep -o '[0-9.]* msg/s' "$out")" \
	    "$(awk '/latency ms/ { print $4 }' "$out")" \
	    "$(awk '/end of data/ { print $5 }' "$out")" \
	    "$(awk -v a="$i0" -v b="$i1" -v t0="$t0" -v t1="$t1" \
	        'BEGIN { printf "%.2f", (b - a) / 100 / (t1 - t0) }')" \
	    "$(join "$s0" "$s1" | awk -v n="$BENCH_N" \
	        '$3 > $2 { printf "%s=%.0fus ", $1, ($3 - $2) * 10000 / n }')" \
	    "$store"
}

for _ in $(seq 1 "${AB_ROUNDS:-2}"); do
	for v in A B; do
		bin=$BIN_A
		[ "$v" = B ] && bin=$BIN_B
		start_server "$bin"
		for _ in $(seq 1 "${AB_RUNS:-3}"); do
			run_once "$v" "$bin" | tee -a "$RUN_DIR/runs"
		done
		stop_server
	done
done

# Each side's median rate over all its runs, and B's over A's.
awk -v a="$BIN_A" -v b="$BIN_B" '
	{ r[$1, ++n[$1]] = $2 }
	function median(v,    i, j, t, k) {
		k = n[v]
		for (i = 1; i <= k; i++) m[i] = r[v, i]
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && m[j - 1] > m[j]; j--) {
				t = m[j]; m[j] = m[j - 1]; m[j - 1] = t
			}
		return k % 2 ? m[(k + 1) / 2] : (m[k / 2] + m[k / 2 + 1]) / 2
	}
	END {
		ma = median("A"); mb = median("B")
		printf "median A %.0f msg/s (%d runs, %s)\n", ma, n["A"], a
		printf "median B %.0f msg/s (%d runs, %s)\n", mb, n["B"], b
		printf "B / A    %.2f\n", mb / ma
	}' "$RUN_DIR/runs"
