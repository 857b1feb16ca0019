#!/bin/bash
# The network family on the command line: --arch by name and with 1x1
# layers, -nobn, --head fc:W. A run with dropout resumed after epoch 1 of
# 2 writes the same tensors, bit for bit, as the run straight through (the
# masks come from the run's random state), and its second epoch line is
# the same; a -nobn checkpoint has the documented names and metadata;
# --resume with a different --arch or --head is a usage error naming both;
# bad names exit 2 naming the value.
set -u
BIN=${VGG_BIN_DIR:?}
SRC=${VGG_SOURCE_DIR:?}
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_family.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

python3 "$SRC/tests/synth_cifar.py" "$T/data" 3 20 30 || fail "synthetic data"
data() { python3 - "$1" <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
print(len(b) - 8 - n, hashlib.sha256(b[8 + n:]).hexdigest())
PY
}
for net in "8 M 16:1 M|fc:16" "8 M 16:1 M|linear"; do
    arch=${net%|*}; head=${net#*|}
    (
        tag="${head//:/}"
        a=(--data "$T/data" --classes 3 --threads 1 --batch-size 16
           --eval-batch-size 10 --limit-train 50 --seed 3 --head "$head")
        "$BIN/vggtrain" "${a[@]}" --arch "$arch" --epochs 2 --out "$T/s-$tag.bin" \
            > "$T/s-$tag.log" || fail "$tag: straight run"
        "$BIN/vggtrain" "${a[@]}" --arch "$arch" --epochs 1 --out "$T/h-$tag.bin" \
            > /dev/null || fail "$tag: first half"
        "$BIN/vggtrain" --data "$T/data" --threads 1 --eval-batch-size 10 \
            --resume "$T/h-$tag.bin" --epochs 2 --out "$T/r-$tag.bin" \
            > "$T/r-$tag.log" || fail "$tag: resumed run"
        [ "$(data "$T/s-$tag.bin")" = "$(data "$T/r-$tag.bin")" ] ||
            fail "$tag: resumed run's tensors differ from the straight run's"
        diff <(grep '^epoch 2/' "$T/s-$tag.log" | sed 's/  time.*//') \
             <(grep '^epoch 2/' "$T/r-$tag.log" | sed 's/  time.*//') ||
            fail "$tag: epoch 2 lines differ"
        grep -q "head $head" "$T/s-$tag.log" || fail "$tag: no head in the header"
        echo "$tag: resume exact"
    ) || exit 1
done
# Named configurations without batch norm, and their checkpoint: no
# running statistics, conv biases, names conv<b>.<p> two entries apart.
"$BIN/vggtrain" --data "$T/data" --classes 3 --threads 2 --batch-size 16 \
    --limit-train 32 --limit-test 10 --arch vgg11-nobn --head fc:8 \
    --epochs 1 --out "$T/v11.bin" > "$T/v11.log" || fail "vgg11-nobn"
grep -q "network vgg11-nobn, head fc:8" "$T/v11.log" || fail "vgg11-nobn header"
python3 - "$T/v11.bin" <<'PY' || fail "vgg11-nobn checkpoint"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
h = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])
md = h.pop("__metadata__")
assert md["batch_norm"] == "false" and md["head"] == "fc:8", md
names = [k for k in h if not k.startswith("optimizer.")]
assert not [k for k in names if "running" in k or "num_batches" in k]
assert "conv3.2.weight" in names and "conv3.1.weight" not in names, names
assert [k for k in names if k.startswith("fc")] == [
    "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight",
    "fc3.bias"], names
assert h["fc1.weight"]["shape"] == [8, 512] and h["fc3.weight"]["shape"] == [3, 8]
print("vgg11-nobn fc:8: %d tensors, names and metadata as documented" % len(names))
PY
"$BIN/vggeval" "$T/v11.bin" --data "$T/data" --threads 2 > /dev/null ||
    fail "vggeval on vgg11-nobn"

# --resume against a different network or head.
"$BIN/vggtrain" --data "$T/data" --resume "$T/v11.bin" --epochs 2 --arch vgg11 \
    --out "$T/x.bin" 2> "$T/err.txt"; rc=$?
[ $rc = 2 ] && grep -q "vgg11-nobn" "$T/err.txt" || fail "--arch mismatch: $rc $(cat "$T/err.txt")"
"$BIN/vggtrain" --data "$T/data" --resume "$T/v11.bin" --epochs 2 --head linear \
    --out "$T/x.bin" 2> "$T/err.txt"; rc=$?
[ $rc = 2 ] && grep -q "fc:8" "$T/err.txt" || fail "--head mismatch: $rc $(cat "$T/err.txt")"
for bad in "--arch vgg12" "--arch 64:2,M" "--head fc:x" "--head wide"; do
    "$BIN/vggtrain" --data "$T/data" $bad --out "$T/x.bin" 2> "$T/err.txt"; rc=$?
    [ $rc = 2 ] && grep -qF -- "${bad#* }" "$T/err.txt" ||
        fail "$bad: exit $rc, $(cat "$T/err.txt")"
done
[ ! -e "$T/x.bin" ] || fail "a refused run wrote x.bin"
echo PASS
