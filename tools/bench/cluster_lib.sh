# cluster_lib.sh: helpers sourced by run_cluster.sh and
# run_cluster_imap.sh on top of bench_lib.sh: a private etcd, a cluster of
# roostd nodes on 127.0.0.1 started the way an admin does it (roostctl
# cluster init, roostd --cluster, node add, cluster wait), a standalone
# roostd beside it, the bench users, and the CPU time of processes from
# /proc. Every process is started in the background and stopped by its
# pid (clu_stop_all). Not a script of its own.
# shellcheck shell=bash

CLU_NAME=bench
CLU_NODES=${BENCH_CLUSTER_NODES:-3}
CLU_PARTITIONS=${BENCH_CLUSTER_PARTITIONS:-64}
# Copies of each partition: 1 for issue #4's target, 3 for issue #5's
# replicated intake (BENCH_REPLICAS=3).
CLU_REPLICAS=${BENCH_REPLICAS:-1}
# Node i (1..CLU_NODES) listens on CLU_PORT_BASE + 100 * i + n: with the
# default 30000, n1 on 30100 + n, n2 on 30200 + n, n3 on 30300 + n; the
# standalone node on CLU_PORT_BASE + 100 * (CLU_NODES + 1).
CLU_PORT_BASE=${BENCH_PORT_BASE:-30000}
CLU_SA_BASE=$((CLU_PORT_BASE + 100 * (CLU_NODES + 1)))
# etcd's client port, or the first free one above it; the peer port is
# the next free one.
CLU_ETCD_PORT=${BENCH_ETCD_PORT:-32379}

CLU_ETCD_PID=
CLU_ETCD_URL=
CLU_SA_PID=
CLU_PIDS=()            # CLU_PIDS[i]: node i's roostd
CLU_TOKEN=             # the cluster's admin token file
CLU_SA_TOKEN=          # the standalone node's

# Finds roostd and roostctl: $ROOSTD, else build-bench/bin, else
# build/bin (roostctl beside it).
clu_find_roost() {
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
	bench_die "roostd not built (cmake --build build --target" \
	    "roostd roostctl)"
}

clu_find_etcd() {
	CLU_ETCD=${ROOST_ETCD:-$(command -v etcd || true)}
	{ [ -n "$CLU_ETCD" ] && [ -x "$CLU_ETCD" ]; } ||
	    bench_die "etcd not found (apt-get install etcd-server, or" \
	    "ROOST_ETCD=path)"
}

# True if something listens on 127.0.0.1:$1 (or any address).
clu_port_busy() {
	ss -Htln "( sport = :$1 )" 2>/dev/null | grep -q .
}

# The first port from $1 up that nothing listens on.
clu_free_port() {
	local p=$1
	while clu_port_busy "$p"; do
		p=$((p + 1))
	done
	echo "$p"
}

# Node i's port base.
clu_base() {
	echo $((CLU_PORT_BASE + 100 * $1))
}

# roostctl against node i (0: the standalone node) with its token.
clu_ctl() {
	local i=$1
	shift
	if [ "$i" -eq 0 ]; then
		"$ROOSTCTL" --node "127.0.0.1:$((CLU_SA_BASE + 80))" \
		    --token-file "$CLU_SA_TOKEN" "$@"
	else
		"$ROOSTCTL" --node "127.0.0.1:$(($(clu_base "$i") + 80))" \
		    --token-file "$CLU_TOKEN" "$@"
	fi
}

# Waits for GET http://127.0.0.1:$1/healthz = 200 while pid $2 lives;
# $3 names the process for messages, $4 is its log.
clu_wait_healthz() {
	local code=
	for _ in $(seq 1 300); do
		kill -0 "$2" 2>/dev/null || {
			tail -20 "$4" >&2
			bench_die "$3 exited during start-up (log: $4)"
		}
		code=$(curl -s -o /dev/null -w '%{http_code}' \
		    "http://127.0.0.1:$1/healthz" || true)
		[ "$code" = 200 ] && return 0
		sleep 0.1
	done
	bench_die "$3: /healthz on port $1 not 200 after 30 s (log: $4)"
}

# A private etcd under $1 on free loopback ports.
clu_start_etcd() {
	local dir=$1 client peer
	client=$(clu_free_port "$CLU_ETCD_PORT")
	peer=$(clu_free_port $((client + 1)))
	CLU_ETCD_URL=http://127.0.0.1:$client
	install -d -m 0700 "$dir/etcd"
	"$CLU_ETCD" --name e1 --data-dir "$dir/etcd" \
	    --listen-client-urls "$CLU_ETCD_URL" \
	    --advertise-client-urls "$CLU_ETCD_URL" \
	    --listen-peer-urls "http://127.0.0.1:$peer" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
	    --initial-cluster "e1=http://127.0.0.1:$peer" \
	    --log-level warn >"$dir/etcd.log" 2>&1 &
	CLU_ETCD_PID=$!
	for _ in $(seq 1 300); do
		kill -0 "$CLU_ETCD_PID" 2>/dev/null ||
		    bench_die "etcd exited during start-up (log: $dir/etcd.log)"
		curl -s "$CLU_ETCD_URL/health" 2>/dev/null |
		    grep -q '"health":"true"' && {
			bench_log "etcd running (pid $CLU_ETCD_PID," \
			    "$CLU_ETCD_URL, peer port $peer)"
			return 0
		}
		sleep 0.1
	done
	bench_die "etcd not healthy after 30 s (log: $dir/etcd.log)"
}

# The settings every node gets: all connections come from 127.0.0.1, so
# no per-address limits; "$@" and $ROOSTD_ARGS add to them.
clu_node_args() {
	# shellcheck disable=SC2086
	printf '%s\n' --bind 127.0.0.1 --set smtp.max_connections_per_ip=0 \
	    --set imap.max_connections_per_ip=0 ${ROOSTD_ARGS:-}
}

# etcd, cluster init, CLU_NODES nodes with --cluster, node add each,
# cluster wait: the cluster of cluster/README.md under $1.
clu_start_cluster() {
	local dir=$1 i base args
	mapfile -t args < <(clu_node_args)
	clu_start_etcd "$dir"
	CLU_TOKEN=$dir/admin.token
	"$ROOSTCTL" cluster init --etcd "$CLU_ETCD_URL" --name "$CLU_NAME" \
	    --partitions "$CLU_PARTITIONS" --replicas "$CLU_REPLICAS" \
	    --token-file "$CLU_TOKEN" >/dev/null ||
	    bench_die "roostctl cluster init failed"
	for i in $(seq 1 "$CLU_NODES"); do
		base=$(clu_base "$i")
		install -d -m 0700 "$dir/n$i/data"
		"$ROOSTD" --cluster "$CLU_NAME" --etcd "$CLU_ETCD_URL" \
		    --node-id "n$i" --data-dir "$dir/n$i/data" \
		    --port-base "$base" "${args[@]}" >"$dir/n$i/roostd.log" 2>&1 &
		CLU_PIDS[i]=$!
	done
	for i in $(seq 1 "$CLU_NODES"); do
		clu_wait_healthz $(($(clu_base "$i") + 80)) "${CLU_PIDS[i]}" \
		    "roostd n$i" "$dir/n$i/roostd.log"
	done
	for i in $(seq 1 "$CLU_NODES"); do
		clu_ctl 1 node add "n$i" >/dev/null ||
		    bench_die "roostctl node add n$i failed"
	done
	clu_ctl 1 cluster wait --timeout 60 >/dev/null ||
	    bench_die "roostctl cluster wait: the cluster did not settle"
	bench_log "cluster $CLU_NAME: $CLU_NODES nodes (pids ${CLU_PIDS[*]})," \
	    "$CLU_PARTITIONS partitions, ports $(clu_base 1) +100 ..."
}

# A standalone roostd under $1 on CLU_SA_BASE.
clu_start_standalone() {
	local dir=$1 args
	mapfile -t args < <(clu_node_args)
	install -d -m 0700 "$dir/data"
	"$ROOSTD" --standalone --data-dir "$dir/data" --port-base "$CLU_SA_BASE" \
	    "${args[@]}" >"$dir/roostd.log" 2>&1 &
	CLU_SA_PID=$!
	CLU_SA_TOKEN=$dir/data/admin.token
	clu_wait_healthz $((CLU_SA_BASE + 80)) "$CLU_SA_PID" \
	    "standalone roostd" "$dir/roostd.log"
	[ -s "$CLU_SA_TOKEN" ] || bench_die "roostd wrote no $CLU_SA_TOKEN"
	bench_log "standalone roostd running (pid $CLU_SA_PID, ports" \
	    "$CLU_SA_BASE + n)"
}

# Domain $BENCH_DOMAIN and user1..user$2 with password $3 through node $1
# (0: the standalone node); in a cluster any node's admin API writes the
# shared directory.
clu_make_users() {
	local node=$1 n=$2 pass=$3 i
	clu_ctl "$node" domain add "$BENCH_DOMAIN" >/dev/null
	for i in $(seq 1 "$n"); do
		printf '%s\n' "$pass" |
		    clu_ctl "$node" user add "user$i@$BENCH_DOMAIN" \
		    --password-stdin >/dev/null
	done
}

# "address primary partition" per account of $BENCH_DOMAIN, from node 1.
clu_user_primaries() {
	clu_ctl 1 user list --domain "$BENCH_DOMAIN" --json | tr -d ' \n' |
	    grep -o '{"address":[^}]*}' | awk '{
		a = $0; sub(/.*"address":"/, "", a); sub(/".*/, "", a)
		p = $0; sub(/.*"primary":"/, "", p); sub(/".*/, "", p)
		n = $0; sub(/.*"partition":/, "", n); sub(/[,}].*/, "", n)
		print a, p, n
	}'
}

# The cluster's nodes' pids, one line.
clu_node_pids() {
	echo "${CLU_PIDS[@]}"
}

# CPU time (clock ticks, utime + stime of /proc/PID/stat) of the
# processes $@, summed; a process that is gone counts 0.
clu_cpu_ticks() {
	local pid t=0 v
	for pid in "$@"; do
		# Fields after the ")" of comm: 12 and 13 are utime, stime.
		v=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null |
		    awk '{ print $12 + $13 }') || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# CPU ticks per thread name over the processes $@: "name ticks" lines
# sorted by name (thread names: roostd = the event loop, store-writer,
# store-sync, worker, rocksdb:*).
clu_thread_ticks() {
	local pid t
	for pid in "$@"; do
		for t in /proc/"$pid"/task/*; do
			printf '%s %s\n' "$(tr ' ' _ <"$t/comm" 2>/dev/null)" \
			    "$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null)"
		done
	done | awk 'NF == 2 { a[$1] += $2 } END { for (k in a) print k, a[k] }' |
	    sort
}

# Idle CPU ticks of the whole machine so far (idle + iowait).
clu_idle_ticks() {
	awk '/^cpu / { print $5 + $6 }' /proc/stat
}

# Stops every process the helpers started, by pid: a profiler, the
# standalone node, the cluster's nodes (last to first), then etcd.
clu_stop_all() {
	local i
	bench_stop_pid "$CLU_PERF_PID" 10
	CLU_PERF_PID=
	if [ -n "$CLU_SA_PID" ]; then
		bench_log "stopping the standalone roostd (pid $CLU_SA_PID)"
		bench_stop_pid "$CLU_SA_PID" 30
		CLU_SA_PID=
	fi
	for ((i = ${#CLU_PIDS[@]}; i >= 1; i--)); do
		[ -n "${CLU_PIDS[i]:-}" ] || continue
		bench_log "stopping roostd n$i (pid ${CLU_PIDS[i]})"
		bench_stop_pid "${CLU_PIDS[i]}" 30
		CLU_PIDS[i]=
	done
	if [ -n "$CLU_ETCD_PID" ]; then
		bench_log "stopping etcd (pid $CLU_ETCD_PID)"
		bench_stop_pid "$CLU_ETCD_PID" 20
		CLU_ETCD_PID=
	fi
}

# The median of the numbers on stdin (one per line); empty input: 0.
clu_median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print 0; exit }
		print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)
	}'
}

# BENCH_PERF=1: a CPU profile of the processes $2... while one run lasts,
# into the file $1 (perf record -g at 999 Hz, or BENCH_PERF_CG's call-graph
# method, e.g. "dwarf" where frame pointers are missing; stop with
# clu_perf_stop).
# Profiling costs the processes some CPU: runs with it are for finding
# where the time goes, not for the figures.
CLU_PERF_PID=
CLU_PERF_FILE=
clu_perf_start() {
	local pids
	[ "${BENCH_PERF:-0}" = 1 ] || return 0
	command -v perf >/dev/null || bench_die "BENCH_PERF=1: perf not found"
	CLU_PERF_FILE=$1
	shift
	pids=$(echo "$@" | tr ' ' ,)
	perf record -q -F 999 --call-graph "${BENCH_PERF_CG:-fp}" \
	    -o "$CLU_PERF_FILE" -p "$pids" >/dev/null 2>&1 &
	CLU_PERF_PID=$!
	sleep 0.5
}

# Stops the profile and prints its heaviest symbols (self time).
clu_perf_stop() {
	[ -n "$CLU_PERF_PID" ] || return 0
	kill -INT "$CLU_PERF_PID" 2>/dev/null || true
	bench_wait_gone "$CLU_PERF_PID" 30 || bench_stop_pid "$CLU_PERF_PID" 5
	wait "$CLU_PERF_PID" 2>/dev/null || true
	CLU_PERF_PID=
	echo "  profile      $CLU_PERF_FILE; self time by thread and symbol:"
	perf report -i "$CLU_PERF_FILE" --stdio --no-children -g none \
	    --sort comm,dso,sym --percent-limit 1 2>/dev/null |
	    grep -v '^#' | grep -v '^$' | head -30 | sed 's/^/    /'
}

# BENCH_SYSCALLS=1: the system calls of each process $2... while one run
# lasts (perf trace -s, one trace per process into $1.<pid>; stop with
# clu_syscalls_stop). Tracing every system call slows them: runs with it
# are for counting, not for the figures.
CLU_TRACE_PIDS=()
CLU_TRACE_FILE=
clu_syscalls_start() {
	local pid
	[ "${BENCH_SYSCALLS:-0}" = 1 ] || return 0
	command -v perf >/dev/null || bench_die "BENCH_SYSCALLS=1: no perf"
	CLU_TRACE_FILE=$1
	shift
	CLU_TRACE_PIDS=()
	for pid in "$@"; do
		perf trace -s -p "$pid" -o "$CLU_TRACE_FILE.$pid" \
		    >/dev/null 2>&1 &
		CLU_TRACE_PIDS+=("$!:$pid")
	done
	sleep 1
}

# Stops the traces and prints each process's system calls per session
# ($1 sessions), all its threads summed, the most frequent first.
clu_syscalls_stop() {
	local sessions=$1 t tpid pid
	[ "${#CLU_TRACE_PIDS[@]}" -gt 0 ] || return 0
	for t in "${CLU_TRACE_PIDS[@]}"; do
		tpid=${t%%:*}
		pid=${t#*:}
		kill -INT "$tpid" 2>/dev/null || true
		bench_wait_gone "$tpid" 30 || bench_stop_pid "$tpid" 5
		wait "$tpid" 2>/dev/null || true
		# perf trace -s: a table per thread, a row per system call
		# ("name calls errors total_ms ..."), summed over threads.
		awk '$1 ~ /^[a-z_0-9]+$/ && $2 ~ /^[0-9]+$/ && NF >= 8 {
		    n[$1] += $2 } END { for (c in n) print c, n[c] }' \
		    "$CLU_TRACE_FILE.$pid" | sort -k2,2nr |
		    awk -v s="$sessions" -v pid="$pid" '
		        { all += $2; if (NR <= 10) top = top sprintf(" %s %.1f",
		            $1, $2 / s) }
		        END { printf "  syscalls     pid %s: %.0f per session:%s\n",
		            pid, all / s, top }'
	done
	CLU_TRACE_PIDS=()
}
