#!/usr/bin/env bash
# quickstart.sh: installs what is missing, builds Roost, and runs a local
# cluster on 127.0.0.1: etcd (client port 12379), three nodes n1, n2, n3
# (port bases 10100, 10200, 10300, data under ./run/n1 … ./run/n3) and
# HAProxy in front (SMTP 10025, IMAP 10043, POP3 10010, HTTP 10080), with
# the demo domain example.test and users alice and bob. Ctrl-C stops
# everything cleanly.
#
#   quickstart.sh --standalone   one node instead (port base 10100, data
#                                ./run/node1), no etcd, no HAProxy
#   ROOST_DEMO_PASSWORD          the demo users' password (roost-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
password=${ROOST_DEMO_PASSWORD:-roost-demo}
mode=cluster
case "${1:-}" in
--standalone) mode=standalone ;;
"") ;;
*) echo "usage: $0 [--standalone]" >&2; exit 2 ;;
esac

if [ "$mode" = standalone ]; then
	./deploy/deps.sh build
else
	./deploy/deps.sh run
fi
echo "== building into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
mkdir -p "$top/run"

pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "== stopping"
	# HAProxy first (no new clients), then the nodes, etcd last.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[$i]}" 2>/dev/null || true
		wait "${pids[$i]}" 2>/dev/null || true
	done
}
trap stop INT TERM EXIT

# waits until "$@" succeeds, or fails after 20 s; $pid must stay alive.
wait_for() {
	local pid=$1 log=$2; shift 2
	for _ in $(seq 1 200); do
		"$@" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || { tail -20 "$log"; return 1; }
		sleep 0.1
	done
	"$@"
}

# demo_users CTL…: the demo domain and users; idempotent (a second run
# finds them and only resets the password).
demo_users() {
	"$@" domain add example.test >/dev/null 2>&1 || true
	for u in alice bob; do
		local name
		name=$(tr '[:lower:]' '[:upper:]' <<<"${u:0:1}")${u:1}
		if ! printf '%s\n' "$password" | "$@" user add "$u@example.test" \
			--name "$name" --password-stdin >/dev/null 2>&1; then
			printf '%s\n' "$password" | "$@" user passwd \
				"$u@example.test" --password-stdin >/dev/null
		fi
	done
}

if [ "$mode" = standalone ]; then
	base=10100
	data=$top/run/node1
	ctl() { "$top/build/bin/roostctl" --node "127.0.0.1:$((base + 80))" \
		--token-file "$data/admin.token" "$@"; }
	echo "== starting roostd (log: run/node1.log)"
	"$top/build/bin/roostd" --standalone --data-dir "$data" \
		--port-base "$base" --bind 127.0.0.1 >>"$top/run/node1.log" 2>&1 &
	pids+=($!)
	wait_for "${pids[0]}" "$top/run/node1.log" ctl status
	demo_users ctl
	cat <<EOT

Roost is running: one standalone node on 127.0.0.1, data in run/node1/.
  SMTP  127.0.0.1:$((base + 25))    IMAP  127.0.0.1:$((base + 43))    POP3  127.0.0.1:$((base + 10))
  admin API  http://127.0.0.1:$((base + 80))
  users alice@example.test and bob@example.test, password: $password

Send a message:
  swaks --server 127.0.0.1:$((base + 25)) --from bob@example.test --to alice@example.test
Read it over IMAP (no TLS yet; plaintext logins from this machine only):
  curl -u 'alice@example.test:$password' 'imap://127.0.0.1:$((base + 43))/INBOX;UID=1'
or over POP3 (list, then fetch message 1):
  curl -u 'alice@example.test:$password' pop3://127.0.0.1:$((base + 10))/
  curl -u 'alice@example.test:$password' pop3://127.0.0.1:$((base + 10))/1
Administer (in another shell, in this directory):
  build/bin/roostctl status
  build/bin/roostctl user list

Press Ctrl-C to stop.
EOT
	wait "${pids[0]}"
	exit 0
fi

cluster=demo
etcd_url=http://127.0.0.1:12379
token=$top/run/admin.token
echo "== starting etcd on 127.0.0.1:12379 (log: run/etcd.log)"
etcd --name demo --data-dir "$top/run/etcd" \
	--listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
	--listen-peer-urls http://127.0.0.1:12380 \
	--initial-advertise-peer-urls http://127.0.0.1:12380 \
	--initial-cluster demo=http://127.0.0.1:12380 \
	--log-level warn >>"$top/run/etcd.log" 2>&1 &
pids+=($!)
wait_for "${pids[0]}" "$top/run/etcd.log" curl -sf "$etcd_url/health"

if [ ! -s "$token" ]; then
	echo "== roostctl cluster init --name $cluster"
	"$top/build/bin/roostctl" cluster init --etcd "$etcd_url" \
		--name "$cluster" --partitions 64 --replicas 3 --token-file "$token"
fi
ctl() { "$top/build/bin/roostctl" --node "127.0.0.1:10180" \
	--token-file "$token" "$@"; }

for n in 1 2 3; do
	echo "== starting node n$n, port base $((10000 + 100 * n)) (log: run/n$n.log)"
	"$top/build/bin/roostd" --cluster "$cluster" --etcd "$etcd_url" \
		--node-id "n$n" --data-dir "$top/run/n$n" \
		--port-base $((10000 + 100 * n)) --bind 127.0.0.1 \
		--set proxy_protocol_from=127.0.0.2/32 \
		>>"$top/run/n$n.log" 2>&1 &
	pids+=($!)
done
for n in 1 2 3; do
	wait_for "${pids[$n]}" "$top/run/n$n.log" curl -sf \
		"http://127.0.0.1:$((10080 + 100 * n))/healthz"
	ctl node add "n$n" >/dev/null 2>&1 || true
done
ctl cluster wait --timeout 60
echo "== starting HAProxy in front (log: run/haproxy.log)"
haproxy -db -f "$top/deploy/haproxy.cfg" >>"$top/run/haproxy.log" 2>&1 &
pids+=($!)
wait_for "${pids[4]}" "$top/run/haproxy.log" curl -sf \
	http://127.0.0.1:10080/healthz
demo_users ctl

cat <<EOT

Roost is running: a cluster of three nodes on 127.0.0.1 with etcd and
HAProxy in front. Data in run/n1 … run/n3, etcd in run/etcd, logs in run/.
  through HAProxy:  SMTP 127.0.0.1:10025   IMAP 127.0.0.1:10043
                    POP3 127.0.0.1:10010   admin API http://127.0.0.1:10080
  each node n (1-3) also serves directly on port base 10000 + 100*n:
                    SMTP 10n25, IMAP 10n43, POP3 10n10, HTTP 10n80
  users alice@example.test and bob@example.test, password: $password

Send a message (to any node; HAProxy spreads the load):
  swaks --server 127.0.0.1:10025 --from bob@example.test --to alice@example.test
Read it over IMAP or POP3 from any node (no TLS yet; plaintext logins
from this machine only):
  curl -u 'alice@example.test:$password' 'imap://127.0.0.1:10043/INBOX;UID=1'
  curl -u 'alice@example.test:$password' pop3://127.0.0.1:10010/1
Administer (in another shell, in this directory):
  build/bin/roostctl status           (cluster, nodes, partitions)
  build/bin/roostctl node list
  build/bin/roostctl user show alice@example.test

Press Ctrl-C to stop.
EOT
wait "${pids[1]}"
