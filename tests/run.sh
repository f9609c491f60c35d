#!/usr/bin/env bash
# run.sh: installs what is missing, builds, runs every test, and ends with
# "N passed, N failed". Works from a fresh Debian 12 checkout as root.
#
#   tests/run.sh            everything
#   ROOST_FUZZ_SECONDS=N    seconds per fuzz target (default 15)
#   ROOST_TESTS="unit fuzz integration"   a subset of the phases
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
phases=${ROOST_TESTS:-"build lint unit fuzz integration"}
fuzz_seconds=${ROOST_FUZZ_SECONDS:-15}
passed=0
failed=0
failures=()

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1"; }
has_phase() { case " $phases " in *" $1 "*) return 0 ;; esac; return 1; }
finish() {
	if [ ${#failures[@]} -gt 0 ]; then
		echo "failures:"
		printf '  %s\n' "${failures[@]}"
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

./deploy/deps.sh test || { fail "install dependencies"; finish; }

build() {   # build DIR [cmake args…]
	local dir=$1; shift
	mkdir -p "$dir" && cmake -S . -B "$dir" "$@" >"$dir/build.log" 2>&1 &&
		cmake --build "$dir" -j"$jobs" >>"$dir/build.log" 2>&1
}

echo "== build"
# build/: the optimised build quickstart runs (warnings are errors).
# build-asan/: every test runs against ASan+UBSan binaries.
mkdir -p build build-asan
if build build -DCMAKE_BUILD_TYPE=RelWithDebInfo; then pass; else
	tail -40 build/build.log; fail "build (release)"; finish; fi
if build build-asan -DCMAKE_BUILD_TYPE=Debug -DROOST_SANITIZE=ON; then pass; else
	tail -40 build-asan/build.log; fail "build (asan)"; finish; fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# LeakSanitizer needs ptrace-like access some sandboxes deny; probe once.
if ! ASAN_OPTIONS=detect_leaks=1 ./build-asan/bin/unit test_rs_buf >/dev/null 2>&1; then
	export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
fi

if has_phase lint; then
	echo "== lint"
	srcs=$(find lib storage cluster node tools -name '*.c' | sort)
	# Only our sources: the protoc-c output under build/ is not ours.
	# cppcheck reads no system header, so the version check at the top
	# of every generated header (#error unless libprotobuf-c's version
	# macros say it fits) would make it skip each file including one:
	# give it the installed values.
	pbc=/usr/include/protobuf-c/protobuf-c.h
	pbc_ver=$(awk '/#define[ \t]+PROTOBUF_C_VERSION_NUMBER/ {print $3}' $pbc)
	pbc_min=$(awk '/#define[ \t]+PROTOBUF_C_MIN_COMPILER_VERSION/ {print $3}' $pbc)
	if cppcheck --quiet --enable=warning,performance,portability \
	     --error-exitcode=1 --inline-suppr --suppress=missingIncludeSystem \
	     --suppress=unknownMacro --project=build/compile_commands.json \
	     -i tests -i build -DPROTOBUF_C_VERSION_NUMBER="$pbc_ver" \
	     -DPROTOBUF_C_MIN_COMPILER_VERSION="$pbc_min" 2>&1; then
		pass
	else
		fail "cppcheck"
	fi
	# shellcheck disable=SC2086
	if out=$(printf '%s\n' $srcs | xargs -P"$jobs" -n8 clang-tidy -p build \
	     --quiet 2>/dev/null) && ! grep -q "error:" <<<"$out"; then
		pass
	else
		grep -E "error:|warning:" <<<"$out" | head -30
		fail "clang-tidy"
	fi
fi

if has_phase unit; then
	echo "== unit"
	for t in $(./build-asan/bin/unit --list); do
		if out=$(timeout 300 ./build-asan/bin/unit "$t" 2>&1); then
			pass
		else
			echo "$out" | tail -30
			fail "unit $t"
		fi
	done
	for r in build-asan/bin/replay_fuzz_*; do
		[ -x "$r" ] || continue
		name=${r#build-asan/bin/replay_}
		if out=$("$r" "tests/fuzz/corpus/$name" "tests/fuzz/regress/$name" 2>&1); then
			pass
		else
			echo "$out" | tail -30
			fail "replay $name"
		fi
	done
fi

if has_phase fuzz; then
	echo "== fuzz"
	if [ -n "$(ls tests/fuzz/fuzz_*.c 2>/dev/null)" ]; then
		mkdir -p build-fuzz
		if ! build build-fuzz -DCMAKE_C_COMPILER=clang -DROOST_FUZZ=ON \
		     -DCMAKE_BUILD_TYPE=Debug; then
			tail -40 build-fuzz/build.log; fail "build (fuzz)"
		else
			for f in build-fuzz/bin/fuzz_*; do
				name=$(basename "$f")
				if tests/fuzz/run_one.sh "$f" "$fuzz_seconds"; then
					pass
				else
					fail "fuzz $name"
				fi
			done
		fi
	fi
fi

if has_phase integration; then
	echo "== integration"
	if [ -n "$(ls tests/integration/test_*.py 2>/dev/null)" ]; then
		export ROOST_BIN="$top/build-asan/bin"
		junit=$(mktemp /tmp/roost-junit.XXXXXX)
		/usr/bin/python3 -m pytest -q -p no:cacheprovider \
			--junitxml="$junit" tests/integration 2>&1 | tail -60
		read -r np nf < <(/usr/bin/python3 - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
p = f = 0
for tc in root.iter("testcase"):
    if tc.find("failure") is not None or tc.find("error") is not None:
        f += 1
        print(f"FAILED: pytest {tc.get('classname')}::{tc.get('name')}",
              file=sys.stderr)
    elif tc.find("skipped") is None:
        p += 1
print(p, f)
PY
)
		passed=$((passed + ${np:-0}))
		failed=$((failed + ${nf:-1}))
		[ "${nf:-1}" -gt 0 ] && failures+=("integration: $nf test(s)")
		rm -f "$junit"
	fi
fi
finish
