#!/usr/bin/env bash
# ref_dovecot_imap.sh: the IMAP reference of tools/bench/README.md. Runs a
# PRIVATE Dovecot (imap on 127.0.0.1:$BENCH_IMAP_PORT, 11143) with its own
# config, base_dir and log under $BENCH_ROOT/dovecot-imap, users from a
# passwd-file with one {PLAIN} password, Maildirs written directly (P
# messages of ~4 KiB per user), and measures it with imap_bench: sessions
# mode (sessions/s, fetched messages/s, Dovecot's CPU time) and idle mode
# (connections held in IDLE, the resident memory of Dovecot's processes).
# The system's /etc/dovecot and its service are left alone.
#
# usage: tools/bench/ref_dovecot_imap.sh [--keep]
#   --keep   leave $BENCH_ROOT/dovecot-imap (config, log, mail) in place
# environment: BENCH_IMAP_U, _P, _SIZE, _C, _S, _M, _SEARCH, _IDLE,
#   _IDLE_USERS, _HOLD, _PORT (see imap_bench_lib.sh), BENCH_RUNS,
#   BENCH_LOAD_MAX, BENCH_ROOT, IMAP_BENCH, BENCH_JSON_OUT,
#   BENCH_IMAP_CONFIGS ("default tuned hibernate": the Dovecot configs, see
#   write_dovecot_conf), BENCH_IMAP_SESSION_CONFIGS ("default tuned": where
#   sessions mode runs), BENCH_IMAP_IDLE_CONFIGS (all: where idle mode
#   runs), BENCH_IMAP_INOTIFY_RAISE (0; see below)
set -euo pipefail

BENCH_NAME=dovecot-imap
. "$(dirname "$0")/imap_bench_lib.sh"

ROOT=${BENCH_ROOT:-/var/tmp/roost-bench}/dovecot-imap
DC=$ROOT/conf                    # dovecot.conf, users
DCRUN=$ROOT/run                  # base_dir: sockets, master.pid
MAIL=$ROOT/mail                  # users' homes, Maildir inside
PORT=${BENCH_IMAP_PORT:-11143}
# Mail processes run as the system's "mail" user (uid 8): Dovecot refuses
# root and we create no account of our own.
MAIL_USER=${BENCH_MAIL_USER:-mail}
CONFIGS=${BENCH_IMAP_CONFIGS:-default tuned hibernate}
SESSION_CONFIGS=${BENCH_IMAP_SESSION_CONFIGS:-default tuned}
IDLE_CONFIGS=${BENCH_IMAP_IDLE_CONFIGS:-default tuned hibernate}
# imap-hibernate needs an inotify instance per hibernated connection (all
# run as one uid); the kernel's default of 128 per uid makes Dovecot fall
# back to polling and stop hibernating. BENCH_IMAP_INOTIFY_RAISE=1 raises
# fs.inotify.max_user_instances for that config and restores it after.
INOTIFY_RAISE=${BENCH_IMAP_INOTIFY_RAISE:-0}
INOTIFY_SAVED=
IMAP_IDLE_DEFAULT_N=${BENCH_IMAP_IDLE_DEFAULT_N:-300}
# One imap process per connection: at 10,000 the logins slowed to a few a
# second and the machine's load average passed 1,000 (README), so the
# tuned config is measured with fewer and the figure is per connection.
IMAP_IDLE_TUNED_N=${BENCH_IMAP_IDLE_TUNED_N:-2000}
KEEP=no
[ "${1:-}" = "--keep" ] && KEEP=yes

[ "$(id -u)" -eq 0 ] || bench_die "run as root (Dovecot's master needs it)"
ibench_find

install_dovecot() {
	[ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] && return 0
	bench_log "installing dovecot-imapd"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    dovecot-core dovecot-imapd >/dev/null
}
install_dovecot
bench_system_services_off

master_pid() {
	cat "$DCRUN/master.pid" 2>/dev/null || true
}

# The master and its children (every Dovecot process is one).
dovecot_pids() {
	local m
	m=$(master_pid)
	[ -n "$m" ] || return 0
	echo "$m"
	ps -o pid= --ppid "$m" | tr -d ' '
}

STARTED=no
stop_dovecot() {
	local left
	[ "$STARTED" = yes ] || return 0
	STARTED=no
	bench_log "stopping the private dovecot"
	dovecot -c "$DC/dovecot.conf" stop >/dev/null 2>&1 || true
	# With thousands of imap processes the master takes a while.
	bench_stop_pid "$(master_pid)" 120
	sleep 1
	# Our processes are titled "dovecot-roost-bench-imap/...".
	left=$(ps -eo pid=,args= | awk '$2 ~ /^dovecot-roost-bench-imap\// { print $1 }')
	if [ -n "$left" ]; then
		bench_log "ending $(echo "$left" | wc -l) leftover processes"
		# shellcheck disable=SC2086
		kill -TERM $left 2>/dev/null || true
		sleep 5
		left=$(ps -eo pid=,args= |
		    awk '$2 ~ /^dovecot-roost-bench-imap\// { print $1 }')
		# shellcheck disable=SC2086
		[ -z "$left" ] || kill -KILL $left 2>/dev/null || true
	fi
}

inotify_raise() {
	local f=/proc/sys/fs/inotify/max_user_instances want
	[ "$INOTIFY_RAISE" = 1 ] || return 0
	want=$((IMAP_IDLE + 1000))
	[ -z "$INOTIFY_SAVED" ] && INOTIFY_SAVED=$(cat "$f")
	[ "$INOTIFY_SAVED" -ge "$want" ] && return 0
	bench_log "raising fs.inotify.max_user_instances from" \
	    "$INOTIFY_SAVED to $want until the end of the run"
	echo "$want" >"$f"
}

inotify_restore() {
	[ -n "$INOTIFY_SAVED" ] || return 0
	echo "$INOTIFY_SAVED" >/proc/sys/fs/inotify/max_user_instances
	bench_log "fs.inotify.max_user_instances back to $INOTIFY_SAVED"
	INOTIFY_SAVED=
}

stop_all() {
	local rc=$?
	ibench_idle_stop >/dev/null 2>&1 || true
	bench_watch_stop >/dev/null
	stop_dovecot
	inotify_restore
	if [ "$KEEP" = no ] && [ "$rc" -eq 0 ]; then
		rm -rf "$ROOT"
	else
		bench_log "kept $ROOT (log: $ROOT/dovecot.log)"
	fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# $1: default (Dovecot's defaults, which allow 100 imap processes),
# tuned (process limits raised for $IMAP_IDLE connections, imap-login in
# its high-performance mode), hibernate (tuned, plus IDLE connections
# handed to imap-hibernate after 5 s: Dovecot's answer to many IDLEs).
write_dovecot_conf() {
	local mode=$1 uid gid n
	uid=$(id -u "$MAIL_USER")
	gid=$(id -g "$MAIL_USER")
	n=$((IMAP_IDLE + 100))
	install -d -m 0755 "$DC" "$DCRUN"
	cat >"$DC/dovecot.conf" <<EOF
# Private benchmark instance (tools/bench/ref_dovecot_imap.sh), $mode.
instance_name = roost-bench-imap
base_dir = $DCRUN
state_dir = $ROOT/state
log_path = $ROOT/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = $uid
first_valid_gid = $gid
mail_location = maildir:~/Maildir
# The idle test logs in up to $IMAP_IDLE connections for $IMAP_IDLE_USERS users
# from one address (Dovecot's default allows 10 per user and address).
mail_max_userip_connections = $n
passdb {
  driver = passwd-file
  args = scheme=PLAIN $DC/users
}
userdb {
  driver = passwd-file
  args = $DC/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
EOF
	if [ "$mode" = default ]; then
		echo "}" >>"$DC/dovecot.conf"
	else
		cat >>"$DC/dovecot.conf" <<EOF
  # High-performance mode: login processes serve many clients each.
  service_count = 0
  process_min_avail = $(nproc)
  client_limit = $n
}
default_client_limit = $((n + 1000))
service anvil {
  client_limit = $((n + 1000))
}
EOF
	fi
	case $mode in
	tuned)
		cat >>"$DC/dovecot.conf" <<EOF
service imap {
  process_limit = $n
}
EOF
		;;
	hibernate)
		# As in Dovecot's documentation of imap_hibernate_timeout.
		cat >>"$DC/dovecot.conf" <<EOF
imap_hibernate_timeout = 5s
service imap {
  process_limit = $n
  unix_listener imap-master {
    user = \$default_internal_user
  }
  extra_groups = \$default_internal_group
}
service imap-hibernate {
  client_limit = $n
  unix_listener imap-hibernate {
    mode = 0660
    group = \$default_internal_group
  }
}
EOF
		;;
	esac
	n=$IMAP_U
	[ "$IMAP_IDLE_USERS" -gt "$n" ] && n=$IMAP_IDLE_USERS
	: >"$DC/users"
	for i in $(seq 1 "$n"); do
		echo "user$i@$BENCH_DOMAIN:{PLAIN}$IMAP_PASS:$uid:$gid::$MAIL/user$i::" \
		    >>"$DC/users"
	done
	# Read by the auth process, which runs as Dovecot's internal user.
	chgrp "$(id -gn dovecot)" "$DC/users"
	chmod 0640 "$DC/users"
}

# The message text: headers vary per message (From for FROM searches),
# the body is the same ~4 KiB of words in lines of at most 78.
BODY=
make_body() {
	local words line w
	words=(the quarterly report is attached and please review before
	    meeting on Thursday we need to agree budget for next year team
	    project schedule has moved by two weeks because of supplier delays)
	BODY=
	line=
	i=0
	while [ ${#BODY} -lt "$IMAP_SIZE" ]; do
		w=${words[$((i * 7 % ${#words[@]}))]}
		i=$((i + 1))
		if [ $((${#line} + ${#w} + 1)) -gt 72 ]; then
			BODY+="$line"$'\n'
			line=
		fi
		line+="${line:+ }$w"
	done
	BODY+="$line"$'\n'
}

# Writes P messages into each user's Maildir/cur (Dovecot assigns UIDs at
# the first SELECT), owned by the mail user.
populate() {
	local k i dir t head
	bench_log "writing $IMAP_P messages of ~$IMAP_SIZE bytes for each of" \
	    "$IMAP_U users"
	rm -rf "$MAIL"
	install -d -m 0755 -o "$MAIL_USER" -g "$MAIL_USER" "$MAIL"
	make_body
	t=$(date +%s)
	for k in $(seq 1 "$IMAP_U"); do
		dir=$MAIL/user$k/Maildir
		mkdir -p "$dir/cur" "$dir/new" "$dir/tmp"
		for i in $(seq 1 "$IMAP_P"); do
			head="From: Sender $((i % 10)) <sender$((i % 10))@bench.example>"$'\n'
			head+="To: <user$k@$BENCH_DOMAIN>"$'\n'
			head+="Subject: imap bench message $i"$'\n'
			head+="Date: Sat, 28 Nov 2026 10:00:00 +0000"$'\n'
			head+="Message-ID: <$k.$i.$t@bench.example>"$'\n'
			head+="MIME-Version: 1.0"$'\n'
			head+="Content-Type: text/plain; charset=us-ascii"$'\n\n'
			printf '%s%s' "$head" "${BODY:0:$((IMAP_SIZE - ${#head}))}" \
			    >"$dir/cur/$t.M${i}P$k.bench:2,"
		done
	done
	chown -R "$MAIL_USER:$MAIL_USER" "$MAIL"
}

start_dovecot() {
	local i
	write_dovecot_conf "$1"
	# Each connection is a descriptor in the master's children and in
	# login processes that serve many.
	ulimit -n "$(ulimit -Hn)"
	dovecot -c "$DC/dovecot.conf"
	STARTED=yes
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
		sleep 0.1
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null ||
	    bench_die "dovecot not listening on $PORT ($ROOT/dovecot.log)"
	bench_log "dovecot $(dovecot --version | cut -d' ' -f1) ($1) running," \
	    "master pid $(master_pid)"
}

# Sessions mode: BENCH_RUNS runs, each after clearing \Seen everywhere;
# Dovecot's CPU time per run from its master (reaped children included)
# and its live processes.
measure_sessions() {
	local run t0 t1 tck rc=0
	tck=$(getconf CLK_TCK)
	bench_log "warm-up: opening every mailbox once"
	ibench_pass "$PORT" --fetch '(UID RFC822.SIZE)' --store '' \
	    --search '' || bench_die "warm-up failed ($ROOT/dovecot.log)"
	for run in $(seq 1 "$BENCH_RUNS"); do
		ibench_pass "$PORT" --fetch '' --store '-FLAGS.SILENT (\Seen)' \
		    --search '' || bench_die "clearing \\Seen failed"
		sync
		bench_wait_quiet
		echo "--- run $run, sessions ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		# shellcheck disable=SC2046
		t0=$(ibench_cpu_ticks $(dovecot_pids))
		ibench_run_sessions "$PORT" || rc=1
		# shellcheck disable=SC2046
		t1=$(ibench_cpu_ticks $(dovecot_pids))
		echo "  dovecot cpu  $(awk -v t=$((t1 - t0)) -v h="$tck" \
		    -v s="$IMAP_S" 'BEGIN { printf "%.2f s, %.1f ms a session", \
		    t / h, t / h * 1000 / s }') (user + system, all its" \
		    "processes)"
	done
	return "$rc"
}

# Prints "RSS PSS" in KiB summed over Dovecot's processes. Reading
# smaps_rollup walks a process's page tables: at 6,000 imap processes on
# this machine it took minutes, so the PSS of the imap processes (all
# alike) is their mean over a sample of up to 100 times their number; the
# other processes and every RSS (statm, cheap) are read in full.
dovecot_mem_kb() {
	local pids imap rest sample rss pss_rest pss_imap n pg
	pg=$(($(getconf PAGESIZE) / 1024))
	pids=$(dovecot_pids)
	# shellcheck disable=SC2086
	rss=$(for p in $pids; do cat "/proc/$p/statm" 2>/dev/null; done |
	    awk -v pg="$pg" '{ s += $2 * pg } END { print s + 0 }')
	# shellcheck disable=SC2086
	imap=$(for p in $pids; do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = imap ] && echo "$p"
	done || true)
	rest=$(echo "$pids" | grep -vxF -f <(echo "$imap") || true)
	n=$(echo "$imap" | grep -c . || true)
	sample=$(echo "$imap" | grep . | shuf -n 100 || true)
	# shellcheck disable=SC2086
	pss_rest=$(ibench_mem_kb $rest | cut -d' ' -f2)
	pss_imap=0
	if [ "$n" -gt 0 ]; then
		# shellcheck disable=SC2086
		pss_imap=$(ibench_mem_kb $sample | awk -v n="$n" \
		    -v k="$(echo "$sample" | grep -c .)" \
		    '{ printf "%d", (k > 0 ? $2 / k * n : 0) }')
	fi
	echo "$rss $((pss_rest + pss_imap))"
}

# Idle mode: RSS and PSS of all Dovecot processes before and with the
# connections idling, and the machine's MemAvailable (which also sees
# the kernel's share: page tables, task structures, sockets; and every
# other process on this shared machine).
measure_idle() {
	local mode=$1 before after n procs avail0 avail1 rc=0
	sleep 2
	before=$(dovecot_mem_kb)
	avail0=$(ibench_mem_available_kb)
	echo "--- idle, $mode config, $IMAP_IDLE connections" \
	    "($(date -u '+%Y-%m-%d %H:%M UTC'))"
	IBENCH_IDLE_EARLY=no
	ibench_idle_start "$PORT" || rc=1
	# Hibernation starts after 5 s of IDLE; give it time, and let
	# everything settle.
	sleep "$IMAP_HOLD"
	n=$(ibench_idle_count "$PORT")
	procs=$(dovecot_pids | wc -l)
	avail1=$(ibench_mem_available_kb)
	after=$(dovecot_mem_kb)
	ibench_idle_stop
	echo "  dovecot      $procs processes; RSS PSS KiB before:" \
	    "$before; with $n connections established: $after" \
	    "(early stop for memory: $IBENCH_IDLE_EARLY)"
	echo "$before $after $n $avail0 $avail1" | awk '{ if ($5 > 0) printf \
	    "  per conn     RSS %.1f KiB, PSS %.1f KiB; MemAvailable fell" \
	    " by %.0f MiB (%.1f KiB per connection)\n", \
	    ($3 - $1) / $5, ($4 - $2) / $5, ($6 - $7) / 1024, \
	    ($6 - $7) / $5 }'
	grep -c 'Inotify instance limit' "$ROOT/dovecot.log" |
	    awk '{ if ($1 > 0) print "  log          " $1 " sessions without" \
	    " inotify (fs.inotify.max_user_instances)" }'
	grep -c 'process_limit\|client_limit' "$ROOT/dovecot.log" |
	    awk '{ if ($1 > 0) print "  log          " $1 " limit warnings" }'
	grep -m3 'process_limit\|client_limit' "$ROOT/dovecot.log" |
	    sed 's/^/    /' || true
	return "$rc"
}

bench_machine /var/tmp
bench_log "config under $ROOT"
rm -rf "$ROOT"
install -d -m 0755 "$ROOT"
populate
FAILED=0
echo "dovecot $(dovecot --version | cut -d' ' -f1); $IMAP_U users x" \
    "$IMAP_P messages of ~$IMAP_SIZE bytes; $IMAP_S sessions over" \
    "$IMAP_C connections, window $IMAP_M, search $IMAP_SEARCH"
for mode in $CONFIGS; do
	stop_dovecot
	[ -f "$ROOT/dovecot.log" ] && mv "$ROOT/dovecot.log" "$ROOT/dovecot.log.prev"
	[ "$mode" = hibernate ] && inotify_raise
	start_dovecot "$mode"
	case " $SESSION_CONFIGS " in
	*" $mode "*)
		echo "=== sessions, $mode config"
		measure_sessions || FAILED=1 ;;
	esac
	[ "$IMAP_IDLE" -gt 0 ] || continue
	case " $IDLE_CONFIGS " in
	*" $mode "*) ;;
	*) continue ;;
	esac
	case $mode in
	default)
		# Dovecot's defaults allow 100 login processes; more
		# connections would only queue for them.
		IMAP_IDLE=$IMAP_IDLE_DEFAULT_N IBENCH_IDLE_TIMEOUT=20 \
		    measure_idle "$mode" || true ;;
	tuned)
		IMAP_IDLE=$IMAP_IDLE_TUNED_N measure_idle "$mode" || FAILED=1 ;;
	*)
		measure_idle "$mode" || FAILED=1 ;;
	esac
done
exit "$FAILED"
