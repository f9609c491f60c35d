#!/usr/bin/env bash
# run_one.sh BIN SECONDS: runs one libFuzzer target for a fixed time on its
# seed corpus (tests/fuzz/corpus/<target>/) and dictionary, then reports.
# A crash is copied into tests/fuzz/regress/<target>/ so that it is
# replayed by every later test run.
set -uo pipefail
bin=$1
secs=${2:-15}
name=$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
work=$(dirname "$bin")/../corpus/$name
mkdir -p "$work" "$here/corpus/$name"
args=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10
      -print_final_stats=0 -artifact_prefix="$work/")
[ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")
[ -f "$here/$name.options" ] && read -ra extra <"$here/$name.options" &&
	args+=("${extra[@]}")
if "$bin" "${args[@]}" "$work" "$here/corpus/$name" >"$work.log" 2>&1; then
	echo "fuzz $name: ok ($(grep -c . "$work.log") log lines)"
	exit 0
fi
tail -30 "$work.log"
mkdir -p "$here/regress/$name"
for c in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
	[ -f "$c" ] && cp "$c" "$here/regress/$name/" &&
		echo "fuzz $name: saved $(basename "$c") to tests/fuzz/regress/$name/"
done
exit 1
