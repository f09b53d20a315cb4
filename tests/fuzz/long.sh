#!/usr/bin/env bash
# make fuzz-long FUZZ_SECONDS=N: every libFuzzer target for N seconds (ASan + UBSan), at most two
# at a time, from its committed seeds and dictionary in a scratch corpus; then one table: runs,
# edges covered, crashes, and the CPU time in all. A crash's input is kept under build/fuzz-long/.
set -u
cd "$(dirname "$0")/../.."
FUZZ_DIR=${FUZZ_DIR:-build/fuzz/fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
OUT=build/fuzz-long
rm -rf "$OUT" && mkdir -p "$OUT"

run_one() { # target
	local name=$1 corpus work dictarg=()
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work="$OUT/$name.corpus"
	mkdir -p "$work" "$OUT/$name.crashes"
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
	[ -f "tests/fuzz/dict/${name#fuzz_}.dict" ] && dictarg=(-dict="tests/fuzz/dict/${name#fuzz_}.dict")
	/usr/bin/time -f '%U %S' -o "$OUT/$name.time" timeout $((SECONDS_EACH + 120)) \
		"$FUZZ_DIR/$name" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -print_final_stats=1 \
		"${dictarg[@]}" -artifact_prefix="$OUT/$name.crashes/" "$work" >"$OUT/$name.log" 2>&1
	echo $? >"$OUT/$name.rc"
}

targets=()
for f in "$FUZZ_DIR"/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz-long: no targets in $FUZZ_DIR (make fuzz)" >&2; exit 2; }
echo "fuzz-long: ${#targets[@]} targets, ${SECONDS_EACH} s each, two at a time"
for ((i = 0; i < ${#targets[@]}; i += 2)); do
	run_one "${targets[i]}" &
	[ $((i + 1)) -lt ${#targets[@]} ] && run_one "${targets[i + 1]}" &
	wait
done

crashes_all=0 cpu_all=0
printf '%-16s %12s %8s %8s %10s\n' target runs edges crashes cpu_s
for name in "${targets[@]}"; do
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$name.log" | tail -n1)
	edges=$(grep -o 'cov: [0-9]*' "$OUT/$name.log" | tail -n1 | cut -d' ' -f2)
	crashes=$(find "$OUT/$name.crashes" -type f | wc -l)
	[ "$(cat "$OUT/$name.rc")" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$OUT/$name.time" 2>/dev/null)
	printf '%-16s %12s %8s %8s %10s\n' "$name" "${runs:-?}" "${edges:-?}" "$crashes" "${cpu:-?}"
	crashes_all=$((crashes_all + crashes))
	cpu_all=$((cpu_all + ${cpu:-0}))
done
echo "total: $crashes_all crashes, $cpu_all s of CPU"
[ "$crashes_all" -eq 0 ]
