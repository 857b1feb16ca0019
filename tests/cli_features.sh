#!/usr/bin/env bash
# vggtrain's and vggeval's user-facing features, driven as a user would:
# --log rows, --curve and --samples pictures, schedules, --class-names,
# --quiet, vggeval --confusion and predictions on PNG files.
set -euo pipefail
B=${VGG_BIN_DIR:?}; S=${VGG_SOURCE_DIR:?}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*"; exit 1; }
python3 "$S/tests/synth_cifar.py" syn 4 16 24 >/dev/null
A=(--arch "8 M 16 M" --data syn --batch-size 16 --eval-batch-size 10 --threads 1)

# Step schedule with warm-up; log as CSV and JSON Lines; curve and samples.
"$B/vggtrain" "${A[@]}" --epochs 4 --lr 0.1 --lr-schedule step --lr-steps 2 \
  --lr-gamma 0.5 --warmup 1 --log run.csv --curve curve.png --samples grid.png \
  --out m.bin >out.txt
cat out.txt
# warm-up epoch 1: 0.1*1/2; then 0.1 until epoch 2, 0.05 after
grep '^epoch 1/4' out.txt | grep -q 'lr 0.05 ' || fail "warm-up lr"
grep '^epoch 2/4' out.txt | grep -q 'lr 0.1 ' || fail "epoch 2 lr"
grep '^epoch 3/4' out.txt | grep -q 'lr 0.05 ' || fail "step lr"
python3 - <<'PY'
import csv, struct
rows = list(csv.DictReader(open("run.csv")))
assert len(rows) == 4, rows
assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
assert abs(float(rows[2]["lr"]) - 0.05) < 1e-6
for name, w, h in (("curve.png", None, None), ("grid.png", None, None)):
    d = open(name, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n", name
    w, h = struct.unpack(">II", d[16:24])
    assert w > 100 and h > 100, (name, w, h)
PY
"$B/vggtrain" "${A[@]}" --epochs 2 --lr-schedule cosine --log run.jsonl --out c.bin --quiet >q.txt
[ "$(wc -l <q.txt)" = 1 ] || fail "--quiet prints one line"
grep -q '^epoch 2/2' q.txt || fail "--quiet prints the final result"
python3 -c 'import json; r=[json.loads(l) for l in open("run.jsonl")]; assert len(r)==2 and r[1]["epoch"]==2, r'

# --batch-log: a row per batch, whose means are the epoch's (--log); JSON
# Lines by the name; a resumed run adds its own epochs only; a foreign CSV
# is refused, named, and left as it was.
"$B/vggtrain" "${A[@]}" --epochs 2 --log e.csv --batch-log b.csv --out bl.bin >/dev/null
"$B/vggtrain" "${A[@]}" --epochs 1 --batch-log b.jsonl --out bj.bin >/dev/null
"$B/vggtrain" "${A[@]}" --epochs 1 --batch-log r.csv --out r.bin >/dev/null
"$B/vggtrain" --resume r.bin --epochs 2 --data syn --threads 1 --batch-log r.csv >/dev/null
python3 - <<'PY' || fail "--batch-log rows"
import csv, json
ep = list(csv.DictReader(open("e.csv")))
rows = list(csv.DictReader(open("b.csv")))
assert list(rows[0]) == ["epoch", "batch", "lr", "loss", "acc", "seconds"], list(rows[0])
# 60 training images (labels 0-2 of 4 x 16 x 5), batches of 16: 16 16 16 12
size = [16, 16, 16, 12]
assert [(int(r["epoch"]), int(r["batch"])) for r in rows] == \
    [(e, b) for e in (1, 2) for b in range(1, 5)], rows
for e in (1, 2):
    mine = [r for r in rows if int(r["epoch"]) == e]
    loss = sum(float(r["loss"]) * n for r, n in zip(mine, size)) / 60
    acc = sum(float(r["acc"]) * n for r, n in zip(mine, size)) / 60
    assert abs(loss - float(ep[e - 1]["train_loss"])) < 1e-4, (e, loss, ep[e - 1])
    assert abs(acc - float(ep[e - 1]["train_acc"])) < 1e-4, (e, acc, ep[e - 1])
    assert all(float(r["lr"]) == float(ep[e - 1]["lr"]) for r in mine)
    assert all(float(r["seconds"]) > 0 for r in mine)
j = [json.loads(l) for l in open("b.jsonl")]
assert len(j) == 4 and list(j[0]) == ["epoch", "batch", "lr", "loss", "acc", "seconds"], j[0]
r = list(csv.DictReader(open("r.csv")))
assert [(int(x["epoch"]), int(x["batch"])) for x in r] == \
    [(e, b) for e in (1, 2) for b in range(1, 5)], r
print("--batch-log: rows agree with --log")
PY
# Logs that cannot take rows are refused before any training (no
# checkpoint written), naming the flag and the file.
printf 'a,b\n1,2\n' > other.csv
"$B/vggtrain" "${A[@]}" --epochs 1 --batch-log other.csv --out o.bin 2>err.txt &&
  fail "--batch-log appended to a foreign CSV"
grep -q -- '--batch-log: other.csv: not a vggtrain batch log' err.txt ||
  fail "foreign --batch-log file not named: $(cat err.txt)"
[ "$(cat other.csv)" = "$(printf 'a,b\n1,2')" ] || fail "foreign CSV changed"
[ -e o.bin ] && fail "a checkpoint written before the --batch-log error"
"$B/vggtrain" "${A[@]}" --epochs 1 --log b.csv --out o.bin 2>err.txt &&
  fail "--log appended to a batch log"
grep -q -- '--log: b.csv: not a vggtrain metrics log' err.txt ||
  fail "--log's foreign CSV not named: $(cat err.txt)"
"$B/vggtrain" "${A[@]}" --epochs 1 --batch-log nowhere/b.csv --out o.bin 2>err.txt &&
  fail "--batch-log in a missing folder accepted"
grep -q -- '--batch-log: nowhere/b.csv: folder nowhere: No such file or directory' err.txt ||
  fail "missing folder not named: $(cat err.txt)"
[ -e o.bin ] && fail "a checkpoint written before the --log errors"

# Classes by name: labels remapped, names into the checkpoint, and vggeval
# scores the same classes.
"$B/vggtrain" "${A[@]}" --epochs 1 --class-names bird,airplane --out named.bin >named.txt
grep -q '2 classes (bird airplane)' named.txt || fail "class names"
"$B/vggeval" named.bin --data syn --json >named.json
python3 -c '
import json; r = json.load(open("named.json"))
assert [c["name"] for c in r["per_class"]] == ["bird", "airplane"], r
assert r["images"] == 12, r["images"]'
"$B/vggtrain" "${A[@]}" --epochs 1 --class-names bird,horse 2>err.txt && fail "unknown class accepted"
grep -q "horse" err.txt || fail "unknown class named"
rc=0; "$B/vggtrain" "${A[@]}" --classes 3 --class-names bird,cat 2>err.txt || rc=$?
[ "$rc" = 2 ] || fail "--classes with --class-names: exit $rc, expected 2"

# vggeval: confusion heat map, predictions on PNGs (32x32 RGB, another
# size in grey) and a clear error for a file that is not a PNG.
"$B/vggeval" m.bin --data syn --confusion conf.png >/dev/null
head -c 8 conf.png | od -An -c | grep -q 'P   N   G' || fail "confusion PNG"
python3 - <<'PY'
import random, struct, zlib
def png(path, w, h, ch):
    data = bytes(random.randrange(256) for _ in range(w * h * ch))
    raw = b"".join(b"\0" + data[y*w*ch:(y+1)*w*ch] for y in range(h))
    c = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + c(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2}[ch], 0, 0, 0))
                          + c(b"IDAT", zlib.compress(raw)) + c(b"IEND", b""))
png("rgb.png", 32, 32, 3); png("grey.png", 45, 20, 1)
open("text.png", "w").write("hello")
PY
"$B/vggeval" m.bin rgb.png grey.png --top 2 >pred.txt
cat pred.txt
[ "$(grep -c ':' pred.txt)" = 2 ] || fail "one line per image"
grep -q '^grey.png (45x20, resized to 32x32):' pred.txt || fail "resize noted"
python3 -c '
import re
for line in open("pred.txt"):
    p = [float(x) for x in re.findall(r" (0\.\d+|1\.0+)", line.split(":",1)[1])]
    assert len(p) == 2 and p[0] >= p[1] and 0 <= sum(p) <= 1.0001, line'
"$B/vggeval" m.bin text.png 2>err.txt && fail "text file accepted as PNG"
grep -q 'text.png' err.txt || fail "bad image named"

# VGG_GEMM=check: one line a GEMM call, every ratio within float32 rounding,
# and the run itself unchanged (it goes on with our result). Only with our
# kernels (an AVX-512 CPU); elsewhere nothing is checked.
C=(--arch "8 M 16 M" --data syn --batch-size 16 --eval-batch-size 10 \
   --threads 2 --epochs 1 --seed 3)
"$B/vggtrain" "${C[@]}" --out plain.bin >plain.txt
VGG_GEMM=check "$B/vggtrain" "${C[@]}" --out checked.bin >checked.txt 2>check.txt
if grep -q 'gemm avx512' checked.txt; then
  python3 - <<'PY' || fail "VGG_GEMM=check"
import re
lines = open("check.txt").read().split("\n")
rows = [l.split() for l in lines if l.startswith("gemm-check ")]
assert len(rows) > 20, len(rows)
worst = max(float(r[6]) for r in rows)
assert worst < 1000, worst
print("VGG_GEMM=check: %d calls, worst %.3g of the rounding bound" % (len(rows), worst))
strip = lambda f: [re.sub(r"time .*", "", l) for l in open(f) if l.startswith("epoch")]
assert strip("plain.txt") == strip("checked.txt"), (strip("plain.txt"), strip("checked.txt"))
PY
  python3 "$S/scripts/ckpt_diff.py" plain.bin checked.bin | tail -1 |
    grep -q '(all equal)' || fail "VGG_GEMM=check changed the checkpoint's tensors"
fi
echo "1 passed, 0 failed"
