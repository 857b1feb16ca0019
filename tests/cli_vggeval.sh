#!/bin/bash
# vggeval: scores a checkpoint with the same numbers vggtrain printed for
# that epoch, at any --batch-size; --json is one parseable object; bad
# checkpoints and bad command lines give a message naming the file or flag
# and a non-zero exit, never a crash.
set -u
BIN=${VGG_BIN_DIR:?}
SRC=${VGG_SOURCE_DIR:?}
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
[ -x "$BIN/vggeval" ] || { echo "no vggeval built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_vggeval.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

python3 "$SRC/tests/synth_cifar.py" "$T/data" 4 12 37 || fail "synthetic data"
"$BIN/vggtrain" --data "$T/data" --arch "8 M 16 M" --classes 4 --threads 1 \
    --batch-size 16 --eval-batch-size 10 --epochs 2 --lr 0.002 \
    --out "$T/m.bin" > "$T/train.log" || fail "training"
cat "$T/train.log"

# Text report: the same test loss and accuracy as the trainer's last line.
"$BIN/vggeval" "$T/m.bin" --data "$T/data" --threads 1 > "$T/eval.txt" ||
    fail "vggeval on a good checkpoint"
cat "$T/eval.txt"
pick() { grep -o "$2 [0-9.]*%*" "$1" | tail -1; }
for k in test_loss test_acc; do
    [ "$(pick "$T/train.log" $k)" = "$(pick "$T/eval.txt" $k)" ] ||
        fail "$k: vggtrain '$(pick "$T/train.log" $k)', vggeval '$(pick "$T/eval.txt" $k)'"
done
grep -q "^images 37 " "$T/eval.txt" || fail "image count"
grep -q "confusion matrix" "$T/eval.txt" || fail "no confusion matrix"
grep -q "^automobile " "$T/eval.txt" || fail "no per-class line with names"

# --conv winograd (F(4x4) on both layers): the start lines say so, and the
# scores are direct's within Winograd's rounding.
"$BIN/vggeval" "$T/m.bin" --data "$T/data" --threads 1 --conv winograd \
    > "$T/evalw.txt" || fail "vggeval --conv winograd"
grep -q "conv fwd 44 data 44 wgt 44$" "$T/evalw.txt" ||
    fail "vggeval --conv winograd: the first line does not say what was chosen"
python3 - "$T/eval.txt" "$T/evalw.txt" <<'PY' || fail "--conv winograd changes the scores"
import re, sys
d, w = (re.search(r"correct (\d+)  test_loss ([0-9.]+)", open(f).read()).groups()
        for f in sys.argv[1:])
assert d[0] == w[0] and abs(float(d[1]) - float(w[1])) <= 2e-4, (d, w)
PY
"$BIN/vggtrain" --data "$T/data" --arch "8 M 16 M" --classes 4 --threads 1 \
    --batch-size 16 --eval-batch-size 10 --epochs 1 --lr 0.002 --conv auto \
    --out "$T/ma.bin" > "$T/traina.log" || fail "training with --conv auto"
grep -qE "conv auto: (direct|fwd [d42]{2} data [d42]{2} wgt [d42]{2})$" \
    "$T/traina.log" || fail "vggtrain --conv auto: no choice on the start line"

# --batch-size does not change the results.
"$BIN/vggeval" "$T/m.bin" --data "$T/data" --threads 1 --batch-size 7 \
    > "$T/eval7.txt" || fail "--batch-size 7"
for k in test_loss test_acc correct; do
    [ "$(pick "$T/eval.txt" $k)" = "$(pick "$T/eval7.txt" $k)" ] ||
        fail "--batch-size 7 changes $k"
done

# --json: one object with the promised fields, consistent with itself.
"$BIN/vggeval" "$T/m.bin" --data "$T/data" --json --batch-size 5 \
    > "$T/eval.json" || fail "--json"
python3 - "$T/eval.json" "$T/eval.txt" <<'PY' || fail "--json contents"
import json, re, sys
o = json.load(open(sys.argv[1]))
txt = open(sys.argv[2]).read()
for k in ("images", "correct", "accuracy", "loss", "per_class", "confusion"):
    assert k in o, k
assert o["images"] == 37
assert abs(o["accuracy"] - o["correct"] / o["images"]) < 1e-12
assert o["correct"] == int(re.search(r"correct (\d+)", txt).group(1))
assert "%.4f" % o["loss"] == re.search(r"test_loss ([0-9.]+)", txt).group(1)
pc, conf = o["per_class"], o["confusion"]
assert [p["name"] for p in pc] == ["airplane", "automobile", "bird", "cat"]
assert sum(p["correct"] for p in pc) == o["correct"]
assert sum(p["total"] for p in pc) == o["images"]
assert len(conf) == 4 and all(len(r) == 4 for r in conf)
for i, p in enumerate(pc):
    assert sum(conf[i]) == p["total"] and conf[i][i] == p["correct"]
print("json ok:", o["correct"], "/", o["images"])
PY

# Bad checkpoints: exit 1, a message naming the file, no crash.
printf '' > "$T/empty.bin"
head -c 5000 /dev/urandom > "$T/random.bin"
head -c 2000 "$T/m.bin" > "$T/truncated.bin"
head -c -10 "$T/m.bin" > "$T/short-data.bin"
echo "just some text, not a model" > "$T/text.bin"
python3 - "$T/m.bin" "$T" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
t = sys.argv[2]
flip = bytearray(b); flip[-1] ^= 1
open(t + "/flipped.bin", "wb").write(flip)
huge = bytearray(b); huge[:8] = struct.pack("<Q", 1 << 62)
open(t + "/huge-header.bin", "wb").write(huge)
n = struct.unpack("<Q", b[:8])[0]
bad = bytearray(b); bad[8:8 + 12] = b'{"x": [1, 2 '
open(t + "/bad-json.bin", "wb").write(bad)
PY
mkdir "$T/folder.bin"
for f in missing.bin empty.bin random.bin truncated.bin short-data.bin \
         text.bin flipped.bin huge-header.bin bad-json.bin folder.bin; do
    "$BIN/vggeval" "$T/$f" --data "$T/data" > "$T/out" 2> "$T/err"
    rc=$?
    [ $rc -eq 1 ] || fail "$f: exit $rc, expected 1: $(cat "$T/err")"
    grep -q "$T/$f" "$T/err" || fail "$f: message lacks the file: $(cat "$T/err")"
    echo "$f: $(cat "$T/err")"
done
grep -q "checksum mismatch" <("$BIN/vggeval" "$T/flipped.bin" --data "$T/data" 2>&1) ||
    fail "flipped byte not reported as a checksum mismatch"

# Missing data: runtime error naming the folder.
"$BIN/vggeval" "$T/m.bin" --data "$T/nodata" > /dev/null 2> "$T/err"
[ $? -eq 1 ] && grep -q "$T/nodata" "$T/err" || fail "missing --data: $(cat "$T/err")"

# Usage errors: exit 2 naming the flag.
usage() {
    local want=$1; shift
    "$BIN/vggeval" "$@" > /dev/null 2> "$T/err"
    local rc=$?
    [ $rc -eq 2 ] || fail "vggeval $*: exit $rc, expected 2"
    grep -q -- "$want" "$T/err" || fail "vggeval $*: message lacks '$want': $(cat "$T/err")"
}
usage "missing MODEL"
usage "--frobnicate" "$T/m.bin" --frobnicate
usage "--batch-size" "$T/m.bin" --batch-size 0
usage "--batch-size" "$T/m.bin" --batch-size
usage "--threads" "$T/m.bin" --threads x
usage "--conv" "$T/m.bin" --conv wino
usage "--top" "$T/m.bin" --top 0
# Arguments after MODEL are images to classify: a checkpoint is not a PNG.
"$BIN/vggeval" "$T/m.bin" "$T/m.bin" > /dev/null 2> "$T/err" && fail "a checkpoint taken for an image"
grep -q "m.bin: not a PNG" "$T/err" || fail "image error: $(cat "$T/err")"
"$BIN/vggeval" --help | grep -q -- "--json" || fail "--help"
"$BIN/vggeval" --version | grep -q "^vggeval " || fail "--version"
echo "PASS"
