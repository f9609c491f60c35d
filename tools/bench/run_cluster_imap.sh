#!/usr/bin/env bash
# run_cluster_imap.sh: issue #4's IMAP target, "an IMAP session proxied to
# another node costs at most 1.3 x the CPU of a local one". Starts a
# private etcd and a three-node cluster like run_cluster.sh (port bases
# 30100, 30200, 30300), creates accounts in bench.test until U of them
# (100) have their partition's primary on n2, and delivers P messages of
# ~4 KiB (200) to each of those over SMTP (through aliases
# user1..userU@fill.test, so that smtp_bench's numbering reaches them).
# Then interleaves (ABBA, see below) issue 3's session mix (imap_bench:
# 2,000 sessions over 20 connections of LOGIN, SELECT, UID FETCH of 50
# with bodies, UID STORE, UID SEARCH UNSEEN, LOGOUT), the same users
# each time:
#   local    the clients connect to n2, the primary of their accounts;
#   proxied  the clients connect to n1, which checks the login and relays
#            the session to n2 over a peer stream.
# The CPU of a run is the sum over all roostd processes of utime + stime
# from /proc/PID/stat, before and after (the front end's plus the
# primary's when proxied). One line per run, with the CPU per session by
# node and by thread name ("worker" would be password checks: there
# should be none); at the end each side's median sessions/s and CPU per
# session, and proxied / local.
#
# usage: tools/bench/run_cluster_imap.sh [--keep]
#   --keep   leave the data directories and logs in place afterwards
#            (they are kept anyway when something failed)
# environment: BENCH_IMAP_U, _P, _SIZE, _C, _S, _M, _SEARCH (see
#   imap_bench_lib.sh), BENCH_RUNS (3), BENCH_LOAD_MAX, BENCH_LOAD_WAIT
#   (120 here), BENCH_SETTLE (5), BENCH_PORT_BASE (30000),
#   BENCH_ETCD_PORT (32379), BENCH_PERF=1 (profile n1 and n2 during each
#   run with perf into the run directory: use with --keep; the
#   profiler's cost is in that run's figures), BENCH_SYSCALLS=1 (count
#   n1's and n2's system calls per session with perf trace; slows them),
#   ROOSTD, ROOST_ETCD,
#   BENCH_ROOT, IMAP_BENCH, SMTP_BENCH, BENCH_JSON_OUT, ROOSTD_ARGS
set -euo pipefail

BENCH_NAME=cluster-imap
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_LOAD_WAIT=${BENCH_LOAD_WAIT:-120}
. "$(dirname "$0")/imap_bench_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

SETTLE=${BENCH_SETTLE:-5}
FRONT=1                     # the node proxied sessions connect to
PRIMARY=2                   # the primary of the measured accounts
FILL_DOMAIN=fill.test
KEEP=no
[ "${1:-}" = "--keep" ] && KEEP=yes

clu_find_roost
clu_find_etcd
ibench_find
bench_find_smtp_bench
command -v curl >/dev/null || bench_die "curl is needed for /healthz"

install -d -m 0755 "${BENCH_ROOT:-/var/tmp/roost-bench}"
RUN_DIR=$(mktemp -d "${BENCH_ROOT:-/var/tmp/roost-bench}/cluster-imap.XXXXXX")
RUNS=$RUN_DIR/runs
USERS=$RUN_DIR/users        # "address password", the measured accounts

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

imap_port() {
	echo $(($(clu_base "$1") + 43))
}

# Creates accounts user1.. in batches until IMAP_U of them have their
# primary on n$PRIMARY (about a third of them with three nodes); writes
# those, in order, to $USERS and makes userK@fill.test an alias of the
# K-th.
make_users() {
	local next=1 batch=50 i have=0
	clu_ctl 1 domain add "$BENCH_DOMAIN" >/dev/null
	while [ "$have" -lt "$IMAP_U" ]; do
		[ "$next" -le $((IMAP_U * CLU_NODES * 3)) ] ||
		    bench_die "n$PRIMARY is the primary of too few accounts"
		for i in $(seq "$next" $((next + batch - 1))); do
			printf '%s\n' "$IMAP_PASS" |
			    clu_ctl 1 user add "user$i@$BENCH_DOMAIN" \
			    --password-stdin >/dev/null
		done
		next=$((next + batch))
		clu_user_primaries >"$RUN_DIR/primaries"
		have=$(awk -v p="n$PRIMARY" '$2 == p' "$RUN_DIR/primaries" |
		    wc -l)
	done
	# In creation order (user list sorts by address).
	awk -v p="n$PRIMARY" '$2 == p { sub(/^user/, "", $1); print $1 + 0 }' \
	    "$RUN_DIR/primaries" | sort -n | head -"$IMAP_U" |
	    awk -v d="$BENCH_DOMAIN" -v pw="$IMAP_PASS" \
	        '{ print "user" $1 "@" d, pw }' >"$USERS"
	clu_ctl 1 domain add "$FILL_DOMAIN" >/dev/null
	i=0
	while read -r addr _; do
		i=$((i + 1))
		clu_ctl 1 alias add "user$i@$FILL_DOMAIN" "$addr" >/dev/null
	done <"$USERS"
	bench_log "created user1..user$((next - 1))@$BENCH_DOMAIN;" \
	    "$IMAP_U of them (in $(awk -v p="n$PRIMARY" '$2 == p { print $3 }' \
	    "$RUN_DIR/primaries" | sort -u | wc -l) partitions) on n$PRIMARY"
}

# P messages for each measured account: smtp_bench sends message K to
# user(1 + K mod U)@fill.test, the alias of the account; spread over the
# nodes' SMTP ports. A 250 means every copy is stored.
populate() {
	local n=$((IMAP_U * IMAP_P)) ports="" i want got
	for i in $(seq 1 "$CLU_NODES"); do
		ports=$ports${ports:+,}$(($(clu_base "$i") + 25))
	done
	bench_log "delivering $n messages of $IMAP_SIZE bytes over SMTP"
	"$SMTP_BENCH" --host 127.0.0.1 --port "$ports" -n "$n" \
	    -s "$IMAP_SIZE" -c 20 -u "$IMAP_U" --domain "$FILL_DOMAIN" \
	    --pipelining >"$RUN_DIR/populate.out" ||
	    { cat "$RUN_DIR/populate.out" >&2; bench_die "delivery failed"; }
	want=$n
	got=0
	while read -r addr _; do
		got=$((got + $(clu_ctl 1 user show "$addr" --json |
		    grep -o '"messages": *[0-9]*' | grep -o '[0-9]*$')))
	done <"$USERS"
	[ "$got" -eq "$want" ] ||
	    bench_die "the accounts hold $got messages, not $want"
	bench_log "$got messages stored on n$PRIMARY"
}

# imap_bench over every measured account once through node $1, quietly;
# "$@" after it are imap_bench options.
pass() {
	local node=$1
	shift
	ibench_pass "$(imap_port "$node")" --user-file "$USERS" "$@"
}

# One run of the mix, sessions connecting to node $2; labelled $1.
run_once() {
	local mode=$1 node=$2 run=$3 out=$RUN_DIR/out c0=() c1=() i t=0
	local per_node="" rate ok
	bench_wait_quiet
	# Through the node measured: it clears \Seen for the run and logs
	# every account in there, so that no run pays for password checks
	# (roostd caches a verified login for auth.cache_ttl, 10 minutes;
	# the wait for a quiet machine can be longer).
	pass "$node" --fetch '' --store '-FLAGS.SILENT (\Seen)' \
	    --search '' || bench_die "clearing \\Seen failed"
	sleep "$SETTLE"
	echo "--- $mode (sessions to n$node), run $run" \
	    "($(date -u '+%Y-%m-%d %H:%M:%S UTC'))"
	for i in $(seq 1 "$CLU_NODES"); do
		c0[i]=$(clu_cpu_ticks "${CLU_PIDS[i]}")
		clu_thread_ticks "${CLU_PIDS[i]}" >"$RUN_DIR/thr.$i.0"
	done
	clu_perf_start "$RUN_DIR/perf.$mode.$run.data" "${CLU_PIDS[$FRONT]}" \
	    "${CLU_PIDS[$PRIMARY]}"
	clu_syscalls_start "$RUN_DIR/trace.$mode.$run" "${CLU_PIDS[$FRONT]}" \
	    "${CLU_PIDS[$PRIMARY]}"
	ibench_run_sessions "$(imap_port "$node")" --user-file "$USERS" \
	    >"$out" || { cat "$out"; bench_die "imap_bench failed"; }
	clu_syscalls_stop "$(awk '/^  sessions / { print $2 }' "$out")"
	for i in $(seq 1 "$CLU_NODES"); do
		c1[i]=$(clu_cpu_ticks "${CLU_PIDS[i]}")
		clu_thread_ticks "${CLU_PIDS[i]}" >"$RUN_DIR/thr.$i.1"
	done
	cat "$out"
	ok=$(awk '/^  sessions / { print $2 }' "$out")
	rate=$(awk '/^  sessions / { print $(NF - 1) }' "$out")
	for i in $(seq 1 "$CLU_NODES"); do
		t=$((t + c1[i] - c0[i]))
		per_node="$per_node n$i $(awk -v t=$((c1[i] - c0[i])) \
		    -v s="$ok" 'BEGIN { printf "%.2f", t * 10 / s }')"
	done
	# CLK_TCK is 100 on Linux: one tick is 10 ms.
	awk -v m="$mode" -v r="$rate" -v s="$ok" -v t="$t" -v nodes="$per_node" \
	    'BEGIN { printf "%s %s sessions/s  cpu %.2f ms/session (%s)\n",
	        m, r, t * 10 / s, substr(nodes, 2) }' |
	    tee -a "$RUNS" | sed 's/^/  result       /'
	for i in "$FRONT" "$PRIMARY"; do
		echo "  threads n$i  $(join "$RUN_DIR/thr.$i.0" \
		    "$RUN_DIR/thr.$i.1" | awk -v s="$ok" '$3 > $2 {
		        printf "%s=%.2fms ", $1, ($3 - $2) * 10 / s }')(CPU" \
		    "per session)"
	done
	clu_perf_stop
}

bench_machine "$RUN_DIR"
echo "roostd $ROOSTD (checkout $(git -C "$BENCH_TOP" rev-parse --short HEAD \
    2>/dev/null || echo '?')); $(nproc) cores shared by $CLU_NODES" \
    "cluster nodes, etcd and the generator"
clu_start_cluster "$RUN_DIR/cluster"
make_users
populate
echo "$IMAP_U accounts on n$PRIMARY x $IMAP_P messages of $IMAP_SIZE" \
    "bytes; $IMAP_S sessions over $IMAP_C connections, window $IMAP_M," \
    "search $IMAP_SEARCH; local: to n$PRIMARY, proxied: to n$FRONT"
bench_log "warm-up: every mailbox once, through n$PRIMARY and n$FRONT"
for node in "$PRIMARY" "$FRONT"; do
	pass "$node" --fetch '(UID RFC822.SIZE)' --store '' --search '' ||
	    bench_die "warm-up through n$node failed"
done

: >"$RUNS"
# In the order local, proxied, proxied, local, local, ... (ABBA): a
# session costs more with every run (each run's STORE and the \Seen reset
# overwrite 120,000 flags, and reads pass over the versions until
# compaction: the CPU per session of either side has been seen to double
# over ten runs), so the side measured second in every pair would pay
# for the drift.
for run in $(seq 1 "$BENCH_RUNS"); do
	if [ $((run % 2)) = 1 ]; then
		run_once local "$PRIMARY" "$run"
		run_once proxied "$FRONT" "$run"
	else
		run_once proxied "$FRONT" "$run"
		run_once local "$PRIMARY" "$run"
	fi
done
for p in $(clu_node_pids) "$CLU_ETCD_PID"; do
	kill -0 "$p" 2>/dev/null || bench_die "process $p died"
done

RL=$(awk '$1 == "local" { print $2 }' "$RUNS" | clu_median)
RP=$(awk '$1 == "proxied" { print $2 }' "$RUNS" | clu_median)
CL=$(awk '$1 == "local" { print $5 }' "$RUNS" | clu_median)
CP=$(awk '$1 == "proxied" { print $5 }' "$RUNS" | clu_median)
echo "--- medians of $BENCH_RUNS runs each (interleaved)"
printf 'local     %7.1f sessions/s  %6.2f ms of roostd CPU per session\n' \
    "$RL" "$CL"
printf 'proxied   %7.1f sessions/s  %6.2f ms of roostd CPU per session\n' \
    "$RP" "$CP"
awk -v rl="$RL" -v rp="$RP" -v cl="$CL" -v cp="$CP" 'BEGIN {
	printf "proxied / local: %.2f x the CPU per session (target <= 1.3," \
	    " %s), %.2f of the rate\n", cp / cl,
	    (cp / cl <= 1.3 ? "met" : "NOT met"), rp / rl
}'
