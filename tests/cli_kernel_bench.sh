#!/bin/bash
# scripts/kernel-bench, the micro-kernel alone against the FMA loop: it
# builds against this build, prints one line per pattern with a share of
# the peak, and refuses a bad value or build folder with a message and
# status 2.
set -u
SRC=${VGG_SOURCE_DIR:?}
BIN=${VGG_BIN_DIR:?}
S=$SRC/scripts/kernel-bench
fail() { echo "FAIL: $*"; exit 1; }

grep -qw avx512f /proc/cpuinfo || { echo "skip: no AVX-512F"; exit 77; }
[ -f "$BIN/libvgg.a" ] || fail "no libvgg.a in $BIN"

out=$("$S" --build "$BIN" --rounds 1 --ms 5) || fail "run: $out"
echo "$out"
n=$(echo "$out" | grep -Ec '^(one tile|row block).* [0-9]+% +[0-9]+-[0-9]+%$')
[ "$n" -eq 5 ] || fail "expected 5 pattern lines, got $n"

"$S" --build "$BIN" --rounds 0 2>"$BIN/kernel_bench.err"; [ $? -eq 2 ] || fail "bad --rounds status"
grep -q -- "--rounds 0: expected a whole number 1 to 99" "$BIN/kernel_bench.err" || fail "bad --rounds not named"
"$S" --build /nonexistent 2>"$BIN/kernel_bench.err"; [ $? -eq 2 ] || fail "bad --build status"
grep -q "/nonexistent: no libvgg.a" "$BIN/kernel_bench.err" || fail "bad --build not named"
rm -f "$BIN/kernel_bench.err"
echo "ok"
