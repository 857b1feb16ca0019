#!/bin/bash
# scripts/train_torch.py (the PyTorch yardstick for accuracy curves): its
# crop and flip do what torchvision's RandomCrop(32, padding=4) and
# RandomHorizontalFlip do, and a two-epoch run on synthetic CIFAR files
# prints vggtrain's epoch lines. Skipped (77) when /usr/bin/python3 cannot
# import torch and numpy.
set -u
SRC=${VGG_SOURCE_DIR:?}
PY=${VGG_TORCH_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
    echo "$PY cannot import torch and numpy (apt-get install python3-torch): skipped"
    exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_train_torch.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$PY" - "$SRC/scripts" <<'PY' || fail "augment"
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import train_torch as tt

class Fixed:  # rng.integers in the order augment asks: dy, dx, flip
    def __init__(self, dy, dx, flip):
        self.v = [dy, dx, flip]
    def integers(self, lo, hi, n):
        v = self.v.pop(0)
        assert lo <= v < hi
        return np.full(n, v)

img = np.random.default_rng(0).integers(1, 256, (2, 3, 32, 32)).astype(np.uint8)
same = tt.augment(img, Fixed(4, 4, 0))
assert (same == img).all()
mirror = tt.augment(img, Fixed(4, 4, 1))
assert (mirror == img[:, :, :, ::-1]).all()
# offset (0, 8): rows 0-3 are padding, columns 0-3 of the image's right end
shifted = tt.augment(img, Fixed(0, 8, 0))
assert (shifted[:, :, :4, :] == 0).all() and (shifted[:, :, :, 28:] == 0).all()
assert (shifted[:, :, 4:, :28] == img[:, :, :28, 4:]).all()
# random draws cover every offset and both flips
r = np.random.default_rng(1)
outs = tt.augment(np.repeat(img[:1], 400, 0), r)
assert len({o.tobytes() for o in outs}) > 100
PY

python3 "$SRC/tests/synth_cifar.py" "$T/data" 3 20 30 || fail "synthetic data"
"$PY" "$SRC/scripts/train_torch.py" --data "$T/data" --epochs 2 --threads 1 \
    --batch-size 16 > "$T/log" 2>&1 || { cat "$T/log"; fail "a two-epoch run"; }
cat "$T/log"
grep -q "100 training and 30 test images, 3 classes" "$T/log" || fail "header"
[ "$(grep -cE '^epoch [12]/2  lr 0.01  train_loss [0-9.]+  train_acc [0-9.]+%  test_loss [0-9.]+  test_acc [0-9.]+%' "$T/log")" = 2 ] ||
    fail "not two epoch lines"
"$PY" "$SRC/scripts/train_torch.py" --data "$T/none" > "$T/out" 2>&1 &&
    fail "a missing folder was accepted"
grep -q "$T/none/data_batch_1.bin: no such file" "$T/out" || fail "missing file not named"
echo "cli_train_torch: all passed"
