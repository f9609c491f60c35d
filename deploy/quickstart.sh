#!/usr/bin/env bash
# quickstart.sh: installs what is missing, builds Roost, and runs one
# standalone node on 127.0.0.1 (port base 10100, data under ./run/node1)
# with the demo domain example.test and users alice and bob. Ctrl-C stops
# the node cleanly. (It grows into a local three-node cluster with etcd
# when clustering lands.)
#
#   ROOST_DEMO_PASSWORD   the demo users' password (default roost-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
base=10100
data=$top/run/node1
password=${ROOST_DEMO_PASSWORD:-roost-demo}

./deploy/deps.sh build
echo "== building into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

mkdir -p "$top/run"
ctl() { "$top/build/bin/roostctl" --node "127.0.0.1:$((base + 80))" \
	--token-file "$data/admin.token" "$@"; }

echo "== starting roostd (log: run/node1.log)"
"$top/build/bin/roostd" --standalone --data-dir "$data" --port-base "$base" \
	--bind 127.0.0.1 >>"$top/run/node1.log" 2>&1 &
pid=$!
stop() {
	trap - INT TERM EXIT
	if kill -0 "$pid" 2>/dev/null; then
		echo; echo "== stopping roostd"
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}
trap stop INT TERM EXIT

for _ in $(seq 1 100); do
	ctl status >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { tail -20 "$top/run/node1.log"; exit 1; }
	sleep 0.1
done
ctl status >/dev/null

# Idempotent: a second run finds the domain and users in place and only
# resets the demo password.
ctl domain add example.test 2>/dev/null || true
for u in alice bob; do
	name=$(tr '[:lower:]' '[:upper:]' <<<"${u:0:1}")${u:1}
	if ! printf '%s\n' "$password" | ctl user add "$u@example.test" \
		--name "$name" --password-stdin >/dev/null 2>&1; then
		printf '%s\n' "$password" | ctl user passwd "$u@example.test" \
			--password-stdin >/dev/null
	fi
done

cat <<EOT

Roost is running: one standalone node on 127.0.0.1, data in run/node1/.
  SMTP  127.0.0.1:$((base + 25))    IMAP  127.0.0.1:$((base + 43))    POP3  127.0.0.1:$((base + 10))
  admin API  http://127.0.0.1:$((base + 80))
  users alice@example.test and bob@example.test, password: $password

Send a message:
  swaks --server 127.0.0.1:$((base + 25)) --from bob@example.test --to alice@example.test
Read it over IMAP (any mail client: server 127.0.0.1, port $((base + 43)),
no TLS yet, plaintext logins are allowed from this machine only), or:
  curl -u 'alice@example.test:$password' 'imap://127.0.0.1:$((base + 43))/INBOX;UID=1'
or over POP3 (list, then fetch message 1):
  curl -u 'alice@example.test:$password' pop3://127.0.0.1:$((base + 10))/
  curl -u 'alice@example.test:$password' pop3://127.0.0.1:$((base + 10))/1
Administer (in another shell):
  export ROOST_NODE=127.0.0.1:$((base + 80)) ROOST_TOKEN_FILE=$data/admin.token
  build/bin/roostctl status
  build/bin/roostctl user list

Press Ctrl-C to stop.
EOT
wait "$pid"
