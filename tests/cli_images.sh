#!/bin/bash
# Training on an image folder of real JPEGs, taken at test time from the
# shared CIFAR-10 tree (cifar10-jpeg.tar.gz; found as scripts/get-cifar10
# finds it, else skipped): 2 epochs at --image-size 64, then vggeval with
# the stored size and statistics on the folder and on single JPEGs. Then
# every bad tree and bad image: one error naming the file (exit 1), or with
# --skip-bad-images a warning and a count; and CIFAR-100 files made here,
# with both label kinds.
set -u
BIN=${VGG_BIN_DIR:?}
SRC=${VGG_SOURCE_DIR:?}
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
tgz=
origin=$(git -C "$SRC" remote get-url origin 2>/dev/null || true)
for d in "${VGG_SHARED_DIR:-}" "$SRC/../shared" ${origin:+"$origin/../shared"}; do
    [ -n "$d" ] && [ -f "$d/cifar10/cifar10-jpeg.tar.gz" ] || continue
    tgz=$d/cifar10/cifar10-jpeg.tar.gz
    break
done
[ -n "$tgz" ] || {
    echo "no shared/cifar10/cifar10-jpeg.tar.gz beside $SRC or in \$VGG_SHARED_DIR: skipped"
    exit 77
}
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_images.XXXXXX")
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
pass=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; pass=$((pass + 1)); }

# 80 training and 20 test JPEGs of each of three classes.
tree=$T/tree
mkdir -p "$tree"
pats=()
for c in airplane automobile bird; do
    pats+=("train/$c/00[0-7][0-9].jpg" "test/$c/00[0-1][0-9].jpg")
done
tar xzf "$tgz" -C "$tree" --wildcards "${pats[@]}" || fail "extracting from $tgz"
[ "$(find "$tree" -name '*.jpg' | wc -l)" -eq 300 ] || fail "300 JPEGs expected"
# a name with spaces and non-ASCII bytes, and a file that is no image
mv "$tree/train/bird/0005.jpg" "$tree/train/bird/a b $(printf '\xc3\xa9\xff').jpg"
echo "notes" > "$tree/train/bird/README.txt"

small=(--arch "8 M 16 M 32 M M M" --threads 2 --batch-size 32)
"$BIN/vggtrain" --data "$tree" "${small[@]}" --epochs 2 --image-size 64 \
    --out "$T/m64.bin" > "$T/train.log" 2>&1 || { cat "$T/train.log"; fail "training on the tree"; }
cat "$T/train.log"
grep -q "3 classes (airplane automobile bird), 240 training and 60 test" "$T/train.log" ||
    fail "class names and counts"
grep -q "300 images decoded in .*images/s), 300 resized to 64x64, 1 other entries skipped" \
    "$T/train.log" || fail "decode line"
grep -q "input 64x64, normalize auto: mean 0\.[0-9]*" "$T/train.log" || fail "statistics line"
grep -q "^epoch 2/2 " "$T/train.log" || fail "two epochs"
ok "2 epochs at 64x64 on 300 real JPEGs"

pick() { grep -o "$2 [0-9.]*%*" "$1" | tail -1; }
"$BIN/vggeval" "$T/m64.bin" --data "$tree" --threads 2 > "$T/eval.txt" 2>&1 ||
    { cat "$T/eval.txt"; fail "vggeval on the tree"; }
cat "$T/eval.txt"
for k in test_loss test_acc; do
    [ "$(pick "$T/train.log" $k)" = "$(pick "$T/eval.txt" $k)" ] ||
        fail "$k: vggtrain '$(pick "$T/train.log" $k)', vggeval '$(pick "$T/eval.txt" $k)'"
done
grep -q "^images 60 " "$T/eval.txt" || fail "vggeval image count"
ok "vggeval with the stored size and statistics gives vggtrain's figures"
"$BIN/vggeval" "$T/m64.bin" "$tree/test/bird/0001.jpg" "$tree/test/airplane/0002.jpg" \
    > "$T/pred.txt" 2>&1 || { cat "$T/pred.txt"; fail "vggeval on JPEGs"; }
cat "$T/pred.txt"
grep -q "0001.jpg (32x32, resized to 64x64):  [a-z]* 0\.[0-9]*  [a-z]* " "$T/pred.txt" ||
    fail "JPEG prediction line"
ok "vggeval predicts JPEGs"
head -c 200 "$tree/test/bird/0001.jpg" > "$T/cut.jpg"
rc=0
"$BIN/vggeval" "$T/m64.bin" "$T/cut.jpg" > "$T/cut.txt" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "$T/cut.jpg: damaged or unsupported JPEG" "$T/cut.txt" ||
    { cat "$T/cut.txt"; fail "vggeval on a truncated JPEG: exit $rc"; }
ok "vggeval on a truncated JPEG: exit 1: $(cat "$T/cut.txt")"

# --cache: written, then read instead of decoding, with the same figures
for k in 1 2; do
    "$BIN/vggtrain" --data "$tree" "${small[@]}" --epochs 1 --cache "$T/tree.cache" \
        --out "$T/c$k.bin" > "$T/cache$k.log" 2>&1 || { cat "$T/cache$k.log"; fail "--cache run $k"; }
done
grep -q "^cache $T/tree.cache written" "$T/cache1.log" || { cat "$T/cache1.log"; fail "cache not written"; }
grep -q "300 images read from the cache" "$T/cache2.log" || { cat "$T/cache2.log"; fail "cache not read"; }
[ "$(pick "$T/cache1.log" test_loss)" = "$(pick "$T/cache2.log" test_loss)" ] || fail "cached run differs"
touch "$tree/test/bird/0003.jpg"
"$BIN/vggtrain" --data "$tree" "${small[@]}" --epochs 1 --cache "$T/tree.cache" \
    --out "$T/c3.bin" > "$T/cache3.log" 2>&1 || fail "--cache run 3"
grep -q "300 images decoded" "$T/cache3.log" || { cat "$T/cache3.log"; fail "stale cache used"; }
ok "--cache: written, read back with the same figures, not used after a file changed"

# --val-split on one tree of class folders, seeded
flat=$T/flat
mkdir -p "$flat"
cp -r "$tree/train/airplane" "$tree/train/automobile" "$flat/"
"$BIN/vggtrain" --data "$flat" "${small[@]}" --epochs 1 --val-split 0.25 \
    --out "$T/flat.bin" > "$T/flat.log" 2>&1 || { cat "$T/flat.log"; fail "--val-split"; }
grep -q "2 classes (airplane automobile), 120 training and 40 test" "$T/flat.log" ||
    { cat "$T/flat.log"; fail "--val-split counts"; }
ok "--val-split 0.25: 120 training and 40 test images"

# expect CODE NAME "TEXT" [ARGS...]: vggtrain exits CODE and prints TEXT.
expect() {
    local code=$1 name=$2 text=$3
    shift 3
    local rc=0
    timeout 120 "$BIN/vggtrain" "${small[@]}" --epochs 1 --out "$T/$name.bin" "$@" \
        > "$T/$name.log" 2>&1 || rc=$?
    [ $rc -eq "$code" ] || { cat "$T/$name.log"; fail "$name: exit $rc, expected $code"; }
    grep -qF -- "$text" "$T/$name.log" ||
        { cat "$T/$name.log"; fail "$name: no '$text' in the output"; }
    ok "$name: exit $rc: $(grep -F -- "$text" "$T/$name.log" | head -1)"
}
# bad: a copy of the tree with one file changed
bad_tree() {
    rm -rf "$T/bad"
    cp -r "$tree" "$T/bad"
}
bad_tree
head -c 300 "$tree/train/airplane/0003.jpg" > "$T/bad/train/airplane/0003.jpg"
expect 1 truncated "$T/bad/train/airplane/0003.jpg: damaged or unsupported JPEG" --data "$T/bad"
expect 1 truncated-hint "pass --skip-bad-images" --data "$T/bad"
expect 0 truncated-skipped "warning: skipped $T/bad/train/airplane/0003.jpg" --data "$T/bad" --skip-bad-images
grep -q "1 bad images skipped" "$T/truncated-skipped.log" || fail "no count of bad images"
grep -q "239 training" "$T/truncated-skipped.log" || fail "the bad image was not left out"
bad_tree
printf 'GIF89a not really' > "$T/bad/test/bird/0004.jpg"
expect 1 not-an-image "$T/bad/test/bird/0004.jpg: named as an image but is not a PNG or JPEG" --data "$T/bad"
bad_tree
python3 - "$tree/train/bird/0007.jpg" "$T/bad/train/bird/0007.jpg" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = next(i for i in range(len(b) - 1) if b[i] == 0xFF and b[i + 1] in (0xC0, 0xC2))
b[i + 5:i + 9] = (9000).to_bytes(2, "big") + (9000).to_bytes(2, "big")
open(sys.argv[2], "wb").write(b)
PY
expect 1 bomb "$T/bad/train/bird/0007.jpg: JPEG of 9000x9000 pixels is larger than the limit" --data "$T/bad"
bad_tree
python3 - "$T/bad/train/bird/tiny.png" <<'PY'
import struct, sys, zlib
def png(path, w, h):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\0" + b"\x80" * (3 * w) for _ in range(h))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                          + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png(sys.argv[1], 1, 1)
PY
expect 1 one-pixel "$T/bad/train/bird/tiny.png: image of 1x1 pixels; expected at least 2x2" --data "$T/bad"
bad_tree
mkdir -p "$T/bad/train/zero"
python3 - "$T/bad/train/zero/0.png" <<'PY'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)))
PY
mkdir -p "$T/bad/test/zero" && cp "$T/bad/train/zero/0.png" "$T/bad/test/zero/"
expect 1 zero-pixels "$T/bad/train/zero/0.png: damaged or unsupported PNG (libpng: Invalid IHDR data)" --data "$T/bad"
bad_tree
mkdir -p "$T/bad/train/cat" "$T/bad/test/cat"
cp "$tree/train/bird/0001.jpg" "$T/bad/test/cat/"
expect 1 empty-class "$T/bad/train/cat: empty class folder" --data "$T/bad"
bad_tree
mkdir -p "$T/bad/train/cat"
cp "$tree/train/bird/0001.jpg" "$T/bad/train/cat/"
expect 1 class-lacking "class 'cat' has no folder in $T/bad/test" --data "$T/bad"
rm -rf "$T/bad" && mkdir -p "$T/bad/train" "$T/bad/test"
cp -r "$tree/train/bird" "$T/bad/train/" && cp -r "$tree/test/bird" "$T/bad/test/"
expect 1 one-class "one class folder ('bird'); a classifier needs at least 2" --data "$T/bad"
bad_tree
ln -s loop.jpg "$T/bad/train/bird/loop.jpg"
expect 1 symlink-loop "$T/bad/train/bird/loop.jpg: cannot open (Too many levels of symbolic links: a symbolic-link loop)" --data "$T/bad"
bad_tree
mkfifo "$T/bad/train/bird/pipe.jpg"
expect 1 fifo "$T/bad/train/bird/pipe.jpg: not a regular file" --data "$T/bad"
bad_tree
chmod 000 "$T/bad/train/bird/0009.jpg"
if [ "$(id -u)" -ne 0 ]; then
    expect 1 unreadable "$T/bad/train/bird/0009.jpg: cannot open (Permission denied)" --data "$T/bad"
else
    echo "unreadable file: not testable as root (root reads every file)"
fi
expect 2 no-split "no train/ and test/ folders; for a tree of class folders alone, give --val-split" --data "$flat"
expect 2 classes-above "--classes 5: expected a number from 2 to 3" --data "$tree" --classes 5
expect 2 labels-folder "--labels: only for CIFAR-100 data" --data "$tree" --labels coarse
expect 2 unknown-name "--class-names airplane,cat: unknown class 'cat'" --data "$tree" --class-names airplane,cat
expect 2 image-size "--image-size 48: expected a multiple of 32" --data "$tree" --image-size 48

# --init: the 64x64 model's features, a new 2-class head
expect 0 init "init: 21 convolution and batch-norm tensors from $T/m64.bin; classifier new for 2 classes" \
    --data "$tree" --init "$T/m64.bin" --class-names bird,airplane
expect 1 init-mismatch "--init $T/m64.bin: tensor conv2.0.weight is F32 [16, 8, 3, 3] in the file; this model's is F32 [32, 8, 3, 3]" \
    --data "$tree" --init "$T/m64.bin" --arch "8 M 32 M 32 M M M"
expect 2 init-resume "--init starts a new run" --data "$tree" --init "$T/m64.bin" --resume "$T/m64.bin"

# CIFAR-100 binary made here: record i has fine label i % 100 and coarse
# label (i % 100) // 5; both label kinds and their names.
c100=$T/c100
mkdir -p "$c100"
python3 - "$c100" <<'PY'
import os, random, sys
d = sys.argv[1]
rng = random.Random(3)
def write(name, n):
    with open(os.path.join(d, name), "wb") as f:
        for i in range(n):
            fine = i % 100
            f.write(bytes([fine // 5, fine]) + bytes(rng.getrandbits(8) for _ in range(3072)))
write("train.bin", 200)
write("test.bin", 100)
open(os.path.join(d, "fine_label_names.txt"), "w").write("".join("f%02d\n" % i for i in range(100)))
open(os.path.join(d, "coarse_label_names.txt"), "w").write("".join("c%02d\n" % i for i in range(20)))
PY
expect 0 cifar100-coarse "20 classes (c00 c01 c02" --data "$c100" --labels coarse
"$BIN/vggeval" "$T/cifar100-coarse.bin" --data "$c100" > "$T/c100eval.txt" 2>&1 ||
    { cat "$T/c100eval.txt"; fail "vggeval on CIFAR-100 coarse"; }
grep -q "^images 100 " "$T/c100eval.txt" || { cat "$T/c100eval.txt"; fail "CIFAR-100 eval count"; }
ok "vggeval finds the coarse labels from the checkpoint's names"
expect 0 cifar100-fine "4 classes (f00 f01 f02 f03), 8 training and 4 test" --data "$c100" --classes 4
expect 0 cifar100-named "2 classes (f42 f07), 4 training and 2 test" --data "$c100" --class-names f42,f07
echo "cli_images: $pass checks passed"
