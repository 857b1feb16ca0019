#!/bin/bash
# PyTorch agreement (scripts/torch_agreement.py) with Debian's
# python3-torch: a vggtrain checkpoint loads into the reference VGG class
# and gives the same logits and accuracy; a PyTorch-initialised model gives
# the same loss, layer outputs and gradients in C. --float64 reports both
# forwards' error against float64 (not checked here: test_gemm's
# test_depth_accuracy guards the GEMM's rounding, and the sanitizer build,
# whose batch-norm sums are not vectorised, rounds 3.6 times PyTorch's
# where the release build rounds 1.2 times). Then the same for every named
# configuration and both heads at a sixteenth of the width (--family 16).
# Skipped (77) when
# /usr/bin/python3 cannot import torch and numpy.
set -u
BIN=${VGG_BIN_DIR:?}
SRC=${VGG_SOURCE_DIR:?}
PY=${VGG_TORCH_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
    echo "$PY cannot import torch and numpy (apt-get install python3-torch): skipped"
    exit 77
fi
[ -x "$BIN/tests/torch_dump" ] || { echo "no $BIN/tests/torch_dump"; exit 1; }
nice -n 10 "$PY" "$SRC/scripts/torch_agreement.py" --bin "$BIN" --threads 2 \
    --float64 || exit 1
# The whole family, narrow: vgg11, vgg13, vgg16, vgg16c, vgg19, with and
# without batch norm, linear and fc:W heads, every width divided by 16.
exec nice -n 10 "$PY" "$SRC/scripts/torch_agreement.py" --bin "$BIN" --threads 2 \
    --family 16
