# bench_lib.sh: helpers sourced by the tools/bench/*.sh scripts: finding
# smtp_bench, waiting for a quiet machine, installing the reference
# packages, keeping the system's own postfix/dovecot services down.
# Not a script of its own: source it.

BENCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The benchmark's parameters (the issue's): override from the environment.
BENCH_N=${BENCH_N:-20000}          # messages
BENCH_S=${BENCH_S:-4096}           # bytes per message
BENCH_C=${BENCH_C:-20}             # connections
BENCH_U=${BENCH_U:-100}            # users user1..userU
BENCH_RUNS=${BENCH_RUNS:-2}        # runs of each measurement
BENCH_DOMAIN=bench.test
BENCH_FROM=loadgen@bench.example
# Wait before each run until the 1-minute load average is below this
# (the machine is shared), but at most BENCH_LOAD_WAIT seconds.
BENCH_LOAD_MAX=${BENCH_LOAD_MAX:-1.0}
BENCH_LOAD_WAIT=${BENCH_LOAD_WAIT:-900}

bench_log() {
	printf '%s [%s] %s\n' "$(date +%H:%M:%S)" "${BENCH_NAME:-bench}" "$*" >&2
}

bench_die() {
	bench_log "error: $*"
	exit 1
}

# Finds smtp_bench: $SMTP_BENCH, else build-bench/, else build/.
bench_find_smtp_bench() {
	local b
	for b in "${SMTP_BENCH:-}" "$BENCH_TOP/build-bench/bin/smtp_bench" \
	    "$BENCH_TOP/build/bin/smtp_bench"; do
		if [ -n "$b" ] && [ -x "$b" ]; then
			SMTP_BENCH=$b
			return 0
		fi
	done
	bench_die "smtp_bench not built: cmake -S . -B build-bench" \
	    "-DCMAKE_BUILD_TYPE=RelWithDebInfo &&" \
	    "cmake --build build-bench -j2 --target smtp_bench"
}

bench_now_ms() {
	date +%s%3N
}

# Milliseconds to seconds with three decimals.
bench_ms_to_s() {
	printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# Rate with one decimal: count per (ms / 1000).
bench_rate() {
	awk -v n="$1" -v ms="$2" \
	    'BEGIN { printf "%.1f", (ms > 0 ? n * 1000 / ms : 0) }'
}

bench_load1() {
	cut -d' ' -f1 /proc/loadavg
}

# Waits until the 1-minute load average drops below BENCH_LOAD_MAX; logs
# the load the run starts with either way.
bench_wait_quiet() {
	local start now
	start=$(date +%s)
	while awk -v l="$(bench_load1)" -v m="$BENCH_LOAD_MAX" \
	    'BEGIN { exit !(l >= m) }'; do
		now=$(date +%s)
		if [ $((now - start)) -ge "$BENCH_LOAD_WAIT" ]; then
			bench_log "load $(bench_load1) still >= $BENCH_LOAD_MAX" \
			    "after ${BENCH_LOAD_WAIT}s; measuring anyway"
			break
		fi
		bench_log "load $(bench_load1) >= $BENCH_LOAD_MAX; waiting"
		sleep 15
	done
	bench_log "starting at load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# The machine is shared: while a run lasts, sample once a second which
# processes that are not the benchmark's are running on a CPU (state R),
# so that a disturbed run shows. Kernel threads are not counted.
BENCH_OURS='^(smtp_bench|maildir_count|smtp-source|smtp-sink|master|smtpd|cleanup|qmgr|trivial-rewrite|lmtp|anvil|scache|postlogd|proxymap|pickup|bounce|showq|tlsmgr|dovecot|auth|config|log|stats|roostd|roostctl|curl|sh|bash|ps|awk|grep|sleep|cat|tr|wc|date|seq|head|cut|sync|mktemp)$'
BENCH_WATCH_PID=
BENCH_WATCH_FILE=
bench_watch_start() {
	BENCH_WATCH_FILE=$(mktemp)
	(
		while :; do
			echo '#'
			ps -eo stat=,comm=,args= | awk -v ours="$BENCH_OURS" \
			    '$1 ~ /^R/ && $3 !~ /^\[/ && $2 !~ ours { print $2 }'
			sleep 1
		done >>"$BENCH_WATCH_FILE"
	) &
	BENCH_WATCH_PID=$!
}

# Prints in how many samples foreign processes were running, and which.
bench_watch_stop() {
	local busy total top
	[ -n "$BENCH_WATCH_PID" ] || return 0
	kill "$BENCH_WATCH_PID" 2>/dev/null || true
	wait "$BENCH_WATCH_PID" 2>/dev/null || true
	BENCH_WATCH_PID=
	total=$(grep -c '^#$' "$BENCH_WATCH_FILE" || true)
	busy=$(awk '/^#$/ { if (seen) n++; seen = 0; next } { seen = 1 }
	    END { if (seen) n++; print n + 0 }' "$BENCH_WATCH_FILE")
	top=$(grep -v '^#$' "$BENCH_WATCH_FILE" | sort | uniq -c | sort -rn |
	    head -3 | awk '{ printf "%s%s", sep, $2; sep = ", " }')
	rm -f "$BENCH_WATCH_FILE"
	if [ "$busy" -gt 0 ]; then
		echo "  disturbed    yes: other processes ran in $busy of $total" \
		    "one-second samples ($top)"
	else
		echo "  disturbed    no: no other process ran in $total samples"
	fi
}

# Installs postfix, dovecot-core and dovecot-lmtpd when missing, with
# postfix preseeded to "No configuration" so that it writes no main.cf
# and sets up nothing system-wide.
bench_install_refs() {
	if command -v smtp-sink >/dev/null && [ -x /usr/sbin/dovecot ] &&
	    [ -e /usr/lib/dovecot/lmtp ]; then
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || bench_die "installing packages needs root"
	bench_log "installing postfix, dovecot-core, dovecot-lmtpd"
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    postfix dovecot-core dovecot-lmtpd >/dev/null
}

# Starts Postfix's smtp-sink on 127.0.0.1:$1 in the background and waits
# until it accepts connections; its pid goes to BENCH_SINK_PID. -u: it
# refuses to run as root without it. -m: it serves at most 256 sessions
# by default, raise it. The backlog is the last argument.
bench_start_sink() {
	local port=$1
	if [ "$(id -u)" -eq 0 ]; then
		smtp-sink -u nobody -m 1000 "127.0.0.1:$port" 1000 &
	else
		smtp-sink -m 1000 "127.0.0.1:$port" 1000 &
	fi
	BENCH_SINK_PID=$!
	for _ in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		kill -0 "$BENCH_SINK_PID" 2>/dev/null ||
		    bench_die "smtp-sink did not start"
		sleep 0.1
	done
	bench_die "smtp-sink does not accept on 127.0.0.1:$port"
}

# A roostd's store counters ("store" of roostctl status --json), one
# "name value" per line; nothing from a roostd without them. Arguments:
# roostctl, node HOST:PORT, token file.
bench_store_counters() {
	{ "$1" --node "$2" --token-file "$3" status --json | tr -d ' \n' |
	    grep -o '"store":{[^}]*}' | sed 's/^"store":{//; s/}$//' |
	    tr ',' '\n' | tr -d '"' | tr ':' ' '; } || true
}

# What the store did between two bench_store_counters outputs ($1, $2),
# on one line: its view of a run from inside roostd.
bench_store_report() {
	awk 'FNR == NR { a[$1] = $2; next } { d[$1] = $2 - a[$1] }
	END {
		printf "%d ops in %d syncs (%.1f per sync); commit mean" \
		    " %.2f ms, sync mean %.2f ms", d["ops"], d["syncs"],
		    d["syncs"] ? d["ops"] / d["syncs"] : 0,
		    d["ops"] ? d["commit_us"] / d["ops"] / 1000 : 0,
		    d["syncs"] ? d["sync_us"] / d["syncs"] / 1000 : 0
	}' "$1" "$2"
}

# True if the pid in file $1 is alive.
bench_pidfile_alive() {
	local pid
	pid=$(head -1 "$1" 2>/dev/null | tr -d ' ') || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# If the package install (or anything else) started the system's own
# postfix or dovecot, stop and disable them: the benchmark runs private
# instances only, and the system's would hold ports and CPU. Judged by
# their master pid files: Debian's postfix init script says "running"
# (status 0) when it has no main.cf at all.
bench_system_services_off() {
	local svc pidfile
	for svc in postfix dovecot; do
		case $svc in
		postfix) pidfile=/var/spool/postfix/pid/master.pid ;;
		dovecot) pidfile=/run/dovecot/master.pid ;;
		esac
		if [ -d /run/systemd/system ] && command -v systemctl >/dev/null &&
		    systemctl is-active --quiet "$svc"; then
			bench_log "stopping and disabling the system's $svc"
			systemctl stop "$svc" || true
			systemctl disable --quiet "$svc" || true
		elif bench_pidfile_alive "$pidfile"; then
			bench_log "stopping and disabling the system's $svc"
			"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
			update-rc.d "$svc" disable >/dev/null 2>&1 || true
		fi
	done
}

# Prints the machine the numbers come from.
bench_machine() {
	local disk
	disk=$(df -P "${1:-/var/tmp}" | awk 'NR == 2 { print $1 }')
	echo "machine: $(nproc) cores," \
	    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')," \
	    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
	    "disk $disk ($(lsblk -ndo ROTA,SIZE "$disk" 2>/dev/null |
	        awk '{ print ($1 == 0 ? "non-rotational" : "rotational") ", " $2 }'))," \
	    "kernel $(uname -r)"
}

# Waits up to $2 seconds for process $1 to exit; 0 if it did.
bench_wait_gone() {
	local pid=$1
	for _ in $(seq 1 $(($2 * 10))); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# Ends one process we started: TERM, then KILL after $2 seconds.
bench_stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	bench_wait_gone "$pid" "${2:-10}" && return 0
	bench_log "pid $pid did not stop; killing it"
	kill -KILL "$pid" 2>/dev/null || true
	bench_wait_gone "$pid" 5 || true
}

# Runs smtp_bench with the issue's parameters plus "$@"; its output goes
# to stdout and its JSON line to the file $BENCH_JSON_OUT (appended).
bench_run_smtp_bench() {
	local port=$1 out rc
	shift
	out=$(mktemp)
	rc=0
	bench_watch_start
	"$SMTP_BENCH" --host 127.0.0.1 --port "$port" -n "$BENCH_N" \
	    -s "$BENCH_S" -c "$BENCH_C" -u "$BENCH_U" --domain "$BENCH_DOMAIN" \
	    --from "$BENCH_FROM" --json "$@" >"$out" || rc=$?
	grep -v '^{' "$out"
	bench_watch_stop
	if [ -n "${BENCH_JSON_OUT:-}" ]; then
		grep '^{' "$out" >>"$BENCH_JSON_OUT" || true
	fi
	rm -f "$out"
	return "$rc"
}
