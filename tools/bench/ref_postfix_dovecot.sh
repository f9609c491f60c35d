#!/usr/bin/env bash
# ref_postfix_dovecot.sh: reference (b) of tools/bench/README.md. Runs a
# PRIVATE Postfix (smtpd on 127.0.0.1:2525) that delivers the virtual
# domain bench.test over LMTP to a PRIVATE Dovecot (Maildir under
# $BENCH_ROOT/mail), both with their default fsync behaviour, and measures
# them with smtp_bench (accepted/s, latency, stored/s counted in the
# Maildirs) and with Postfix's own smtp-source. Everything lives under
# $BENCH_ROOT; the system's /etc/postfix and /etc/dovecot are only read.
#
# usage: tools/bench/ref_postfix_dovecot.sh [--keep]
#   --keep   leave $BENCH_ROOT (configs, logs, mail) in place afterwards
# environment: BENCH_N, BENCH_S, BENCH_C, BENCH_U, BENCH_RUNS, BENCH_LOAD_MAX,
#   BENCH_MODES ("plain pipelining smtp-source"), BENCH_ROOT, SMTP_BENCH
set -euo pipefail

BENCH_NAME=postfix+dovecot
. "$(dirname "$0")/bench_lib.sh"

ROOT=${BENCH_ROOT:-/var/tmp/roost-bench}/postfix-dovecot
PF=$ROOT/postfix                 # config_directory
PFQ=$ROOT/postfix-queue          # queue_directory (root-owned)
PFD=$ROOT/postfix-data           # data_directory
DC=$ROOT/dovecot                 # dovecot.conf, users
DCRUN=$ROOT/dovecot-run          # base_dir: sockets, master.pid
MAIL=$ROOT/mail                  # users' homes, Maildir inside
SMTP_PORT=2525
LMTP_SOCK=$DCRUN/lmtp
# Deliveries run as the system's "mail" user (uid 8): Dovecot refuses root
# and we create no account of our own.
MAIL_USER=${BENCH_MAIL_USER:-mail}
MODES=${BENCH_MODES:-plain pipelining smtp-source}
KEEP=no
[ "${1:-}" = "--keep" ] && KEEP=yes

[ "$(id -u)" -eq 0 ] || bench_die "run as root (Postfix's master needs it)"
bench_find_smtp_bench
bench_install_refs
bench_system_services_off

# Our processes: Postfix's carry MAIL_CONFIG=$PF in their environment,
# Dovecot's are titled with the instance name.
our_pids() {
	local f
	for f in /proc/[0-9]*/environ; do
		tr '\0' '\n' 2>/dev/null <"$f" | grep -qxF "MAIL_CONFIG=$PF" &&
		    basename "$(dirname "$f")"
	done
	ps -eo pid=,args= | awk '$2 ~ /^roost-bench-dovecot/ { print $1 }'
}

STARTED=no
stop_all() {
	local rc=$? pid left
	bench_watch_stop >/dev/null
	[ "$STARTED" = yes ] || return 0
	STARTED=no
	bench_log "stopping the private postfix and dovecot"
	postfix -c "$PF" stop >/dev/null 2>&1 || true
	dovecot -c "$DC/dovecot.conf" stop >/dev/null 2>&1 || true
	# Both masters end their children; make sure the masters are gone.
	for pid in "$(head -1 "$PFQ/pid/master.pid" 2>/dev/null | tr -d ' ')" \
	    "$(cat "$DCRUN/master.pid" 2>/dev/null)"; do
		bench_stop_pid "$pid" 15
	done
	sleep 1
	left=$(our_pids | grep -vx "$$" || true)
	for pid in $left; do
		bench_log "ending leftover process $pid"
		bench_stop_pid "$pid" 5
	done
	if [ "$KEEP" = no ] && [ "$rc" -eq 0 ]; then
		rm -rf "$ROOT"
	else
		bench_log "kept $ROOT (logs: postfix.log, dovecot.log)"
	fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

write_postfix_conf() {
	install -d -m 0755 "$PF" "$PFD"
	install -d -m 0755 -o root -g root "$PFQ"
	chown postfix "$PFD"
	cp /etc/postfix/master.cf "$PF/master.cf"
	# Debian's master.cf ships smtpd on *:25 and chroots most services,
	# which needs /etc files copied into the queue; listen on our port
	# only and chroot nothing.
	sed -i 's/^smtp      inet/#smtp      inet/' "$PF/master.cf"
	printf '127.0.0.1:%s inet  n       -       n       -       -       smtpd\n' \
	    "$SMTP_PORT" >>"$PF/master.cf"
	cat >"$PF/main.cf" <<EOF
# Private benchmark instance (tools/bench/ref_postfix_dovecot.sh).
compatibility_level = 3.6
queue_directory = $PFQ
data_directory = $PFD
mail_owner = postfix
setgid_group = postdrop
maillog_file = $ROOT/postfix.log
myhostname = bench-mta.localdomain
mydomain = localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = $BENCH_DOMAIN
virtual_mailbox_maps = texthash:$PF/vmailbox
# smtp-source numbers its recipients (-N: 1user@, 2user@, ...); spread
# them over user1..user100 by the last two digits. smtp_bench's userN@
# addresses match no rule here.
virtual_alias_maps = regexp:$PF/valias
virtual_transport = lmtp:unix:$LMTP_SOCK
EOF
	: >"$PF/vmailbox"
	for i in $(seq 1 "$BENCH_U"); do
		echo "user$i@$BENCH_DOMAIN OK" >>"$PF/vmailbox"
	done
	cat >"$PF/valias" <<EOF
/^[0-9]*00user@bench\\.test\$/	user100@bench.test
/^[0-9]*0([1-9])user@bench\\.test\$/	user\$1@bench.test
/^[0-9]*([1-9][0-9])user@bench\\.test\$/	user\$1@bench.test
/^([1-9])user@bench\\.test\$/	user\$1@bench.test
EOF
	postconf -c "$PF" -F '*/*/chroot = n'
	postfix -c "$PF" check
}

write_dovecot_conf() {
	local uid gid
	uid=$(id -u "$MAIL_USER")
	gid=$(id -g "$MAIL_USER")
	install -d -m 0755 "$DC" "$DCRUN"
	cat >"$DC/dovecot.conf" <<EOF
# Private benchmark instance (tools/bench/ref_postfix_dovecot.sh).
instance_name = roost-bench-dovecot
base_dir = $DCRUN
state_dir = $ROOT/dovecot-state
log_path = $ROOT/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
first_valid_uid = $uid
first_valid_gid = $gid
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = $DC/users
}
userdb {
  driver = passwd-file
  args = $DC/users
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
EOF
	: >"$DC/users"
	for i in $(seq 1 "$BENCH_U"); do
		echo "user$i@$BENCH_DOMAIN::$uid:$gid::$MAIL/user$i::" >>"$DC/users"
	done
}

# Empties the mailboxes (between runs) and recreates the homes.
reset_mail() {
	rm -rf "$MAIL"
	install -d -m 0755 -o "$MAIL_USER" -g "$MAIL_USER" "$MAIL"
	for i in $(seq 1 "$BENCH_U"); do
		install -d -m 0700 -o "$MAIL_USER" -g "$MAIL_USER" "$MAIL/user$i"
	done
}

# Stored = files in the users' Maildir/new and cur. maildir_count (built
# beside smtp_bench) does in ~10 ms what find | wc does in ~35-70 ms of
# CPU at 20,000 files, polled every 100 ms while Dovecot is delivering.
MAILDIR_COUNT=$(dirname "$SMTP_BENCH")/maildir_count
[ -x "$MAILDIR_COUNT" ] || bench_die "$MAILDIR_COUNT not built" \
    "(cmake --build build-bench --target maildir_count)"
COUNT_CMD="'$MAILDIR_COUNT' '$MAIL'"

count_stored() {
	sh -c "$COUNT_CMD"
}

queue_len() {
	find "$PFQ/maildrop" "$PFQ/incoming" "$PFQ/active" "$PFQ/deferred" \
	    -type f 2>/dev/null | wc -l
}

# Before a run: an empty queue, empty mailboxes, a quiet machine.
prepare_run() {
	local i
	for i in $(seq 1 600); do
		[ "$(queue_len)" -eq 0 ] && break
		sleep 0.5
	done
	[ "$(queue_len)" -eq 0 ] || bench_die "postfix queue does not drain"
	reset_mail
	sync
	bench_wait_quiet
}

start_all() {
	bench_log "config under $ROOT"
	rm -rf "$ROOT"
	install -d -m 0755 "$ROOT"
	write_postfix_conf
	write_dovecot_conf
	reset_mail
	STARTED=yes
	dovecot -c "$DC/dovecot.conf"
	postfix -c "$PF" start 2>&1 | sed 's/^/  /' >&2
	for i in $(seq 1 100); do
		[ -S "$LMTP_SOCK" ] && (exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT) \
		    2>/dev/null && break
		sleep 0.1
	done
	[ -S "$LMTP_SOCK" ] || bench_die "dovecot lmtp socket missing ($ROOT/dovecot.log)"
	(exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT) 2>/dev/null ||
	    bench_die "postfix smtpd not listening ($ROOT/postfix.log)"
	bench_log "postfix $(postconf -c "$PF" -h mail_version)" \
	    "and dovecot $(dovecot --version | cut -d' ' -f1) running"
}

# A short delivery through the whole chain before measuring, so the first
# run doesn't pay for process start-up and map loading.
warm_up() {
	local n
	BENCH_N=200 BENCH_JSON_OUT='' bench_run_smtp_bench "$SMTP_PORT" >/dev/null ||
	    bench_die "warm-up failed: see $ROOT/postfix.log, $ROOT/dovecot.log"
	for i in $(seq 1 300); do
		n=$(count_stored)
		[ "$n" -ge 200 ] && return 0
		sleep 0.1
	done
	bench_die "warm-up mail not delivered: see $ROOT/postfix.log"
}

run_smtp_source() {
	local t0 t1 t2 n rc=0
	bench_watch_start
	t0=$(bench_now_ms)
	smtp-source -4 -d -N -s "$BENCH_C" -m "$BENCH_N" -l "$BENCH_S" \
	    -f "$BENCH_FROM" -t "user@$BENCH_DOMAIN" \
	    "127.0.0.1:$SMTP_PORT" || rc=$?
	t1=$(bench_now_ms)
	while n=$(count_stored); [ "$n" -lt "$BENCH_N" ]; do
		if [ $(($(bench_now_ms) - t1)) -gt 600000 ]; then
			echo "smtp-source: only $n stored after 600 s"
			return 1
		fi
		sleep 0.1
	done
	t2=$(bench_now_ms)
	echo "smtp-source: 127.0.0.1:$SMTP_PORT, $BENCH_N messages of" \
	    "$BENCH_S payload bytes + headers, $BENCH_C sessions (-d -N), exit $rc"
	echo "  accepted     $BENCH_N in $(bench_ms_to_s $((t1 - t0))) s:" \
	    "$(bench_rate "$BENCH_N" $((t1 - t0))) msg/s (until smtp-source exited)"
	echo "  stored       $BENCH_N in $(bench_ms_to_s $((t2 - t0))) s:" \
	    "$(bench_rate "$BENCH_N" $((t2 - t0))) msg/s"
	bench_watch_stop
	if [ -n "${BENCH_JSON_OUT:-}" ]; then
		printf '{"tool":"smtp-source","accepted_per_s":%s,"stored_per_s":%s}\n' \
		    "$(bench_rate "$BENCH_N" $((t1 - t0)))" \
		    "$(bench_rate "$BENCH_N" $((t2 - t0)))" >>"$BENCH_JSON_OUT"
	fi
	return "$rc"
}

bench_machine /var/tmp
start_all
warm_up
FAILED=0
for run in $(seq 1 "$BENCH_RUNS"); do
	for mode in $MODES; do
		prepare_run
		echo "--- run $run, $mode ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		case $mode in
		plain)
			bench_run_smtp_bench "$SMTP_PORT" \
			    --wait-stored "$COUNT_CMD" || FAILED=1 ;;
		pipelining)
			bench_run_smtp_bench "$SMTP_PORT" --pipelining \
			    --wait-stored "$COUNT_CMD" || FAILED=1 ;;
		smtp-source)
			run_smtp_source || FAILED=1 ;;
		*)
			bench_die "unknown mode $mode" ;;
		esac
	done
done
if grep -qE 'status=(deferred|bounced)' "$ROOT/postfix.log"; then
	bench_log "warning: deferred or bounced deliveries in $ROOT/postfix.log"
	FAILED=1
fi
exit "$FAILED"
