#!/bin/bash
# vggbench: a tiny run (batch 4, one thread) gives one parseable JSON object
# whose figures agree with each other and with the model (the GEMM FLOPs it
# counted are the model's, the shares add up, each layer's GEMM time is
# part of its time and pooling has none); the text report has the per-layer
# table; bad command lines name the flag and exit 2. Times are not checked:
# this is not a timed test.
set -u
BIN=${VGG_BIN_DIR:?}
SRC=${VGG_SOURCE_DIR:?}
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
[ -x "$BIN/vggbench" ] || { echo "no vggbench built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_vggbench.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
small=(--batch-size 4 --eval-batch-size 3 --steps 2 --warmup 1 --threads 1)

"$BIN/vggbench" --help > "$T/help.txt" || fail "--help exit status"
grep -q -- "--verbose" "$T/help.txt" || fail "--help does not list --verbose"

"$BIN/vggbench" "${small[@]}" --verbose --json > "$T/b.json" 2> "$T/b.err" ||
    { cat "$T/b.err"; fail "a small --verbose --json run"; }
python3 - "$T/b.json" <<'PY' || fail "--json contents"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["batch_size"] == 4 and o["threads"] == 1 and o["steps"] == 2, o
assert o["params"] == 14724675, o["params"]
# The GEMM FLOPs the profile counted in a step are the model's.
model = o["batch_size"] * o["gflop_per_train_image"]
assert abs(o["gemm_gflop_per_step"] - model) <= 0.01 * model, (o["gemm_gflop_per_step"], model)
sh = o["share"]
assert all(v >= 0 for v in sh.values()), sh
assert 0.9 < sum(sh.values()) <= 1.0 + 1e-3, sh
assert abs(o["non_gemm_share"] - (1 - sh["gemm"])) < 2e-4, (o["non_gemm_share"], sh)
for k in ("fma_peak_gflops", "gemm_of_peak", "train_img_s", "eval_img_s", "step_seconds"):
    s = o[k]
    assert 0 < s["min"] <= s["median"] <= s["max"], (k, s)
assert o["peak_rss_mb"] >= o["workspace_mb"] > 0, o
L = o["layers"]
assert len(L) == 19, len(L)  # 13 conv, 5 pool, the classifier
names = [l["name"] for l in L]
assert names[0] == "conv 3->64 32x32" and names[-1] == "classifier 512->3", names
assert sum(n.startswith("conv") for n in names) == 13
assert sum(n.startswith("maxpool") for n in names) == 5
step_ms = 1e3 * o["step_seconds"]["max"] * 1.05
tot = 0.0
for l in L:
    for p in ("fwd", "bwd"):
        ms, g = l[p + "_ms"], l[p + "_gemm_ms"]
        assert 0 <= g <= ms + 0.002, (l, p)  # printed to a microsecond
        if l["name"].startswith("conv"):
            assert g > 0, (l, p)
        elif l["name"].startswith("maxpool"):
            assert g == 0, (l, p)
        tot += ms
# the layers' time is within a step's (the mean of two steps <= the max)
assert tot <= step_ms, (tot, step_ms)
PY

"$BIN/vggbench" "${small[@]}" --verbose > "$T/b.txt" 2>&1 || fail "a small text run"
grep -q "^training " "$T/b.txt" || fail "no training line"
grep -q "GEMM FLOPs counted per step" "$T/b.txt" || fail "no GEMM FLOPs line"
[ "$(grep -cE '^ +[0-9]+ +(conv|maxpool|classifier) ' "$T/b.txt")" = 19 ] ||
    fail "the per-layer table has not 19 rows"
grep -qE '^ +1 +conv 64->64 32x32( +[0-9.]+){6} +[0-9]+% +[0-9]+%$' "$T/b.txt" ||
    fail "layer 1's row lacks its GEMM columns"
grep -q "conv direct: direct$" "$T/b.txt" || fail "the start line does not say conv direct"
grep -q "^conv passes by algorithm" "$T/b.txt" || fail "no table of conv passes by algorithm"
[ "$(grep -cE '^ +#[0-9]+ +conv .*\|' "$T/b.txt")" = 13 ] ||
    fail "the table of conv passes has not 13 rows"

# --conv winograd: every pass of every conv layer by Winograd (F(4x4) down
# to 4x4 maps, F(2x2) on 2x2), said on the start line and in the JSON.
"$BIN/vggbench" "${small[@]}" --conv winograd --json > "$T/w.json" 2> "$T/w.err" ||
    { cat "$T/w.err"; fail "a small --conv winograd run"; }
python3 - "$T/w.json" <<'PY' || fail "--conv winograd --json contents"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["conv"] == "winograd", o["conv"]
c = "4444444444222"
assert o["conv_choice"] == "fwd %s data %s wgt %s" % (c, c, c), o["conv_choice"]
# fewer multiplications than the direct convolution's
assert 0 < o["gemm_gflop_per_step"] < 0.6 * o["batch_size"] * o["gflop_per_train_image"], o
PY

# Bad command lines: exit 2, the flag named, nothing on stdout.
bad() { # expected-text args...
    local want=$1; shift
    "$BIN/vggbench" "$@" > "$T/out" 2> "$T/err"
    local rc=$?
    [ $rc -eq 2 ] || fail "vggbench $*: exit $rc, expected 2"
    grep -q -- "$want" "$T/err" || { cat "$T/err"; fail "vggbench $*: no '$want' in the message"; }
    [ ! -s "$T/out" ] || fail "vggbench $*: wrote to stdout"
}
bad "--steps" --steps 0
bad "--steps" --steps x
bad "--batch-size" --batch-size -3
bad "--threads" --threads
bad "--gemm" --gemm cuda
bad "--conv fast: expected auto, direct or winograd" --conv fast
bad "--frobnicate" --frobnicate

# --latency: ours, PyTorch's and ONNX Runtime's on a tiny checkpoint; the
# JSON has a row per runtime (null where one is not installed) and ours is
# always there.
command -v python3 > /dev/null || { echo "cli_vggbench: no python3: skipped"; exit 77; }
python3 "$SRC/tests/synth_cifar.py" "$T/data" 3 8 10 || fail "synthetic data"
"$BIN/vggtrain" --data "$T/data" --arch "8 M 16 M" --head fc:8 --classes 3 \
    --threads 1 --batch-size 8 --epochs 1 --out "$T/m.bin" > /dev/null ||
    fail "training the latency model"
"$BIN/vggbench" --latency "$T/m.bin" --threads 1 --steps 3 --warmup 1 --json \
    > "$T/lat.json" || fail "--latency"
python3 - "$T/lat.json" <<'PY' || fail "--latency output"
import json, sys
o = json.load(open(sys.argv[1]))["latency"]
assert o["vggtrain"]["batch1_ms"] > 0 and o["vggtrain"]["batch100_ms"] > 0, o
for k in ("pytorch", "onnxruntime"):
    assert k in o and (o[k] is None or o[k]["batch100_ms"] > 0), (k, o[k])
print("latency (ms, batch 1 / 100):", ", ".join(
    "%s %s" % (k, "-" if o[k] is None else "%.2f / %.1f" % (
        o[k]["batch1_ms"], o[k]["batch100_ms"]))
    for k in ("vggtrain", "pytorch", "onnxruntime")))
PY
"$BIN/vggbench" --latency "$T/missing.bin" > /dev/null 2> "$T/err" &&
    fail "--latency on a missing file"
grep -q "missing.bin" "$T/err" || fail "--latency: no file name in $(cat "$T/err")"
echo "cli_vggbench: all passed"
