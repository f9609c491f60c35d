#!/usr/bin/env bash
# deps.sh: installs the Debian 12 packages Roost builds and tests with, if
# any is missing. Sourced or run by deploy/quickstart.sh and tests/run.sh.
set -euo pipefail

ROOST_BUILD_PKGS="cmake make gcc pkg-config libevent-dev libssl-dev
  librocksdb-dev libprotobuf-c-dev protobuf-c-compiler libcurl4-openssl-dev
  libjansson-dev libcrypt-dev libargon2-dev"
# What the quickstart cluster runs besides roostd.
ROOST_RUN_PKGS="etcd-server haproxy curl"
ROOST_TEST_PKGS="python3 python3-pytest clang clang-tidy cppcheck libclang-rt-14-dev swaks isync
  curl procps iproute2 openssl $ROOST_RUN_PKGS"

roost_deps() {
	local want="$*" missing=()
	for p in $want; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: run as root (or install: ${missing[*]})" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || true
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-build}" in
	build) roost_deps $ROOST_BUILD_PKGS ;;
	run) roost_deps $ROOST_BUILD_PKGS $ROOST_RUN_PKGS ;;
	test) roost_deps $ROOST_BUILD_PKGS $ROOST_TEST_PKGS ;;
	*) echo "usage: deps.sh [build|run|test]" >&2; exit 2 ;;
	esac
fi
