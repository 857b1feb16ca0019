#!/bin/bash
# scripts/gemm-ab, the A/B benchmark of our GEMM against another revision:
# it builds the other revision's kernels beside this build's library, runs
# them alternately and prints a line per shape and the step's; a bad
# revision or build folder is refused with a message and status 2.
set -u
SRC=${VGG_SOURCE_DIR:?}
BIN=${VGG_BIN_DIR:?}
S=$SRC/scripts/gemm-ab
fail() { echo "FAIL: $*"; exit 1; }

grep -qw avx512f /proc/cpuinfo || { echo "skip: no AVX-512F"; exit 77; }
git -C "$SRC" rev-parse --verify -q HEAD >/dev/null || { echo "skip: not a git checkout"; exit 77; }
grep -q '^VGG_SANITIZE:BOOL=ON' "$BIN/CMakeCache.txt" 2>/dev/null &&
  { echo "skip: sanitizer build (gemm-ab links a plain object)"; exit 77; }
[ -f "$BIN/libvgg.a" ] || fail "no libvgg.a in $BIN"

out=$("$S" --build "$BIN" HEAD --reps 1 --layer 1 --batch 2) || fail "run against HEAD: $out"
echo "$out"
for pass in fwd dW dcol; do
  echo "$out" | grep -Eq "^1 +$pass .*[0-9]\.[0-9]{3}$" || fail "no $pass line"
done
echo "$out" | grep -q "^step  all" || fail "no step line"

"$S" --build "$BIN" no-such-revision 2>"$BIN/gemm_ab.err" && fail "bad revision accepted"
grep -q "no-such-revision: not a git revision" "$BIN/gemm_ab.err" || fail "bad revision not named"
"$S" --build /nonexistent HEAD 2>"$BIN/gemm_ab.err"; [ $? -eq 2 ] || fail "bad --build status"
grep -q "/nonexistent: no libvgg.a" "$BIN/gemm_ab.err" || fail "bad --build not named"
rm -f "$BIN/gemm_ab.err"
echo "ok"
