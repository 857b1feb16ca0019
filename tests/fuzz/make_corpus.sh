#!/bin/bash
# Regenerates the seed corpus in tests/fuzz/corpus/ (committed; run this
# only to refresh it after a format change).
#   usage: tests/fuzz/make_corpus.sh BUILD_DIR   (a build with vggtrain)
# cifar/: small valid and near-valid CIFAR binary files and a class list.
# checkpoint/: real checkpoints of tiny networks written by vggtrain (the
# first two have the "2 M M M", 2-class network fuzz_checkpoint.c loads into
# its fixed model), plus damaged copies. image/: tiny generated PNGs and
# JPEGs of every kind the decoders convert (tests/fuzz/image_seeds.c);
# scripts/fuzz adds a few real JPEGs from the shared CIFAR-10 tree at run
# time (not committed). Seed files are not named *.bin, which .gitignore
# ignores.
set -euo pipefail
BIN=${1:?usage: make_corpus.sh BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
C=$HERE/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rm -rf "$C/cifar" "$C/checkpoint" "$C/image"
mkdir -p "$C/cifar" "$C/checkpoint" "$C/image"

${CC:-cc} -O1 -I"$SRC/tests" -o "$T/image_seeds" "$HERE/image_seeds.c" \
    "$SRC/tests/util_pix.c" "$SRC/tests/util_jpeg.c" -lpng -ljpeg
"$T/image_seeds" "$C/image"

python3 - "$C/cifar" <<'PY'
import os, random, sys
d = sys.argv[1]
rng = random.Random(5)
def rec(label):
    return bytes([label]) + bytes(rng.getrandbits(8) for _ in range(3072))
def put(name, b):
    open(os.path.join(d, name), "wb").write(b)
put("two-records-labels-0-1", rec(0) + rec(1))
put("three-records-labels-0-1-2", rec(0) + rec(1) + rec(2))
put("one-record-label-9", rec(9))
put("label-out-of-range", rec(0) + rec(10))
put("partial-record", rec(1) + rec(0)[:100])
put("class-names.txt", b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\n"
                       b"horse\nship\ntruck\n\n")
put("class-names-crlf-short.txt", b"a\r\nb\r\n\r\nc\r\n")
PY

python3 "$SRC/tests/synth_cifar.py" "$T/data" 3 8 6 3
train() { "$BIN/vggtrain" --data "$T/data" --threads 1 --batch-size 4 "$@" > /dev/null; }
train --classes 2 --arch "2 M M M" --epochs 1 --limit-train 8 --limit-test 4 \
    --out "$C/checkpoint/tiny-2MMM-epoch1.safetensors"
train --classes 2 --arch "2 M M M" --epochs 2 --limit-train 8 --limit-test 4 \
    --seed 5 --out "$C/checkpoint/tiny-2MMM-epoch2.safetensors"
train --classes 3 --arch "1 M 2 M M" --epochs 1 --limit-train 9 --limit-test 6 \
    --out "$C/checkpoint/tiny-1M2MM-3classes.safetensors"
train --classes 2 --arch "2 M M M" --epochs 2 --limit-train 8 --limit-test 4 \
    --lr-schedule step --lr-steps 1,3 --lr-gamma 0.5 --warmup 1 \
    --out "$C/checkpoint/tiny-2MMM-step-schedule.safetensors"

python3 - "$C/checkpoint" <<'PY'
import os, struct, sys
d = sys.argv[1]
b = open(os.path.join(d, "tiny-2MMM-epoch1.safetensors"), "rb").read()
n = struct.unpack("<Q", b[:8])[0]
def put(name, x):
    open(os.path.join(d, name), "wb").write(x)
put("truncated-data.safetensors", b[:-100])
put("header-only.safetensors", b[:8 + n])
flip = bytearray(b); flip[-5] ^= 0x40
put("bad-checksum.safetensors", bytes(flip))
put("length-past-end.safetensors", struct.pack("<Q", len(b)) + b[8:64])
# as written before the learning-rate schedule was stored
import json
h = json.loads(b[8:8 + n])
for k in ("lr_schedule", "lr_steps", "lr_gamma", "lr_min", "lr_warmup"):
    h["__metadata__"].pop(k, None)
hb = json.dumps(h, separators=(",", ":")).encode()
hb += b" " * (-(8 + len(hb)) % 8)
put("no-schedule-older-format.safetensors", struct.pack("<Q", len(hb)) + hb + b[8 + n:])
# a history number that is JSON but no float (a finding of 2026-11-29: it
# loaded as inf, and the loaded file then would not save again)
b = open(os.path.join(d, "tiny-2MMM-epoch2.safetensors"), "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
hist = json.loads(h["__metadata__"]["history"])
hist[0]["test_loss"] = 1e39
h["__metadata__"]["history"] = json.dumps(hist, separators=(",", ":"))
hb = json.dumps(h, separators=(",", ":")).encode()
hb += b" " * (-(8 + len(hb)) % 8)
put("history-1e39.safetensors", struct.pack("<Q", len(hb)) + hb + b[8 + n:])
PY
ls -l "$C/cifar" "$C/checkpoint" "$C/image"
