#!/usr/bin/env bash
# Runs every suite (unit, integration, fuzz) and ends with one line:
#   N passed, N failed, N skipped
# Select suites with SUITES="unit integration fuzz" and one scenario with ONLY=name.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_DIR=${FUZZ_DIR:-build/fuzz/fuzz}
SUITES=${SUITES:-unit integration fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-5}
export BUILD
logs=$BUILD/test-logs
mkdir -p "$logs"
pass=0 fail=0 skip=0
failed=() # names of the suites with a failure, said again above the last line

count_cmocka() { # file exit-code name
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n1)
	p=${p:-0} f=${f:-0}
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed before its summary
	pass=$((pass + p)) fail=$((fail + f))
	printf '  %-28s %3d passed, %d failed\n' "$3" "$p" "$f"
	[ "$f" -eq 0 ] && return
	failed+=("$3")
	sed 's/^/    | /' "$1" | grep -E 'FAIL|ERROR|error|Assert|failure' | head -20
}

if [[ " $SUITES " == *" unit "* ]]; then
	echo "unit tests"
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		[ -n "${ONLY:-}" ] && [ "$name" != "${ONLY}" ] && continue
		CMOCKA_MESSAGE_OUTPUT=stdout timeout 300 "$t" >"$logs/$name.log" 2>&1
		count_cmocka "$logs/$name.log" $? "$name"
	done
fi

if [[ " $SUITES " == *" integration "* ]]; then
	echo "integration tests"
	for s in tests/integration/[0-9]*.sh; do
		[ -f "$s" ] || continue
		name=$(basename "$s" .sh)
		[ -n "${ONLY:-}" ] && [[ "$name" != *"${ONLY}"* ]] && continue
		timeout 900 bash "$s" </dev/null >"$logs/$name.log" 2>&1
		rc=$?
		p=$(grep -c '^ok ' "$logs/$name.log")
		f=$(grep -c '^not ok ' "$logs/$name.log")
		k=$(grep -c '^skip ' "$logs/$name.log")
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$logs/$name.log"; fi
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
		printf '  %-28s %3d passed, %d failed, %d skipped\n' "$name" "$p" "$f" "$k"
		[ "$f" -eq 0 ] && continue
		failed+=("$name: $(grep -m3 '^not ok ' "$logs/$name.log" | tr '\n' ' ')")
		grep -E -A8 '^not ok ' "$logs/$name.log" | sed 's/^/    | /' | head -60
	done
fi

if [[ " $SUITES " == *" fuzz "* ]] && [ -z "${SKIP_FUZZ:-}" ]; then
	echo "fuzz targets (${FUZZ_SECONDS}s each)"
	for f in "$FUZZ_DIR"/fuzz_*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus=tests/fuzz/corpus/${name#fuzz_}
		dict=tests/fuzz/dict/${name#fuzz_}.dict
		dictarg=()
		[ -f "$dict" ] && dictarg=(-dict="$PWD/$dict")
		work=$(mktemp -d)
		[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
		if (cd "$work" && timeout $((FUZZ_SECONDS + 60)) "$OLDPWD/$f" -max_total_time="$FUZZ_SECONDS" \
			-rss_limit_mb=2048 "${dictarg[@]}" -artifact_prefix="$work/" "$work" >"$OLDPWD/$logs/$name.log" 2>&1); then
			pass=$((pass + 1))
			printf '  %-28s ok (%s)\n' "$name" "$(grep -o 'Done [0-9]* runs' "$logs/$name.log" | tail -n1)"
		else
			fail=$((fail + 1))
			failed+=("$name")
			printf '  %-28s FAILED: see %s\n' "$name" "$logs/$name.log"
			tail -n 30 "$logs/$name.log" | sed 's/^/    | /'
		fi
		rm -rf "$work"
	done
fi

# CI shows only the end of this output: name what failed there too.
if [ ${#failed[@]} -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failed[@]}" | cut -c1-300
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
