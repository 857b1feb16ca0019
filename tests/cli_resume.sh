#!/bin/bash
# vggtrain --out / --resume on a tiny network and synthetic CIFAR files:
# 2 epochs + resume for 2 more writes the same tensors, bit for bit, and
# prints the same epoch lines as 4 epochs straight; flags contradicting the
# checkpoint are usage errors; a failed checkpoint write is reported.
set -u
BIN=${VGG_BIN_DIR:?}
SRC=${VGG_SOURCE_DIR:?}
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_resume.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

python3 "$SRC/tests/synth_cifar.py" "$T/data" 3 20 30 || fail "synthetic data"

common=(--data "$T/data" --arch "8 M 16 M" --classes 3 --threads 1
        --batch-size 16 --eval-batch-size 10 --limit-train 50 --seed 7)
"$BIN/vggtrain" "${common[@]}" --epochs 4 --out "$T/straight.bin" \
    > "$T/straight.log" || fail "straight run"
"$BIN/vggtrain" "${common[@]}" --epochs 2 --out "$T/half.bin" \
    > "$T/half.log" || fail "first half"
cp "$T/half.bin" "$T/half-copy.bin"
# Only --data, --threads and --eval-batch-size again: the rest comes from
# the checkpoint (including --limit-train and --seed).
"$BIN/vggtrain" --data "$T/data" --threads 1 --eval-batch-size 10 \
    --resume "$T/half.bin" --epochs 4 --out "$T/resumed.bin" \
    > "$T/resumed.log" || fail "resumed run"
grep -q "resuming $T/half.bin after epoch 2 of 4" "$T/resumed.log" ||
    fail "no resume line"
cmp -s "$T/half.bin" "$T/half-copy.bin" || fail "--out elsewhere changed the resumed file"

# Same epoch lines, apart from the timings.
strip() { grep '^epoch [34]/' "$1" | sed 's/  time.*//'; }
diff <(strip "$T/straight.log") <(strip "$T/resumed.log") ||
    fail "epoch 3-4 lines differ"

# Two checkpoints of the same run: identical tensors, tensor tables and
# metadata (the schedule's keys among them), histories equal but for the
# timings, 4 epochs.
same_checkpoints() {
python3 - "$1" "$2" <<'PY'
import json, struct, sys
def read(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    return h, b[8 + n:]
(ha, da), (hb, db) = read(sys.argv[1]), read(sys.argv[2])
assert da == db, "data sections differ"
ma, mb = ha.pop("__metadata__"), hb.pop("__metadata__")
assert ha == hb, "tensor tables differ"
for k in ma:
    if k != "history":
        assert ma[k] == mb[k], (k, ma[k], mb[k])
strip = lambda h: [{k: v for k, v in r.items()
                    if k not in ("seconds", "images_per_second")}
                   for r in json.loads(h)]
assert strip(ma["history"]) == strip(mb["history"]), "histories differ"
assert ma["epoch"] == "4" and len(json.loads(ma["history"])) == 4
print("resume: data sections identical,", len(da), "bytes, schedule",
      ma["lr_schedule"], ma["checksum"])
PY
}
same_checkpoints "$T/straight.bin" "$T/resumed.bin" || fail "checkpoints differ"

# The learning-rate schedule comes back from the checkpoint: cosine over 4
# epochs, stopped after 2 and resumed without schedule flags, gives the
# straight run's rates and tensors; a schedule flag given on resume
# changes it from there on.
sched=(--lr-schedule cosine --lr-min 0.001 --warmup 1)
"$BIN/vggtrain" "${common[@]}" "${sched[@]}" --epochs 4 --out "$T/cos4.bin" \
    > "$T/cos4.log" || fail "cosine straight run"
"$BIN/vggtrain" "${common[@]}" "${sched[@]}" --epochs 2 --out "$T/cos2.bin" \
    > /dev/null || fail "cosine first half"
"$BIN/vggtrain" --data "$T/data" --threads 1 --eval-batch-size 10 \
    --resume "$T/cos2.bin" --epochs 4 --out "$T/cos-resumed.bin" \
    > "$T/cos-resumed.log" || fail "cosine resumed run"
grep -q "lr cosine from 0.01 to 0.001 after 1 warm-up epoch" "$T/cos-resumed.log" ||
    fail "resumed run does not report the cosine schedule: $(head -1 "$T/cos-resumed.log")"
diff <(strip "$T/cos4.log") <(strip "$T/cos-resumed.log") ||
    fail "cosine: epoch 3-4 lines differ after resume"
same_checkpoints "$T/cos4.bin" "$T/cos-resumed.bin" || fail "cosine checkpoints differ"
python3 -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); m=json.loads(b[8:8+struct.unpack("<Q",b[:8])[0]])["__metadata__"]; assert (m["lr_schedule"], m["lr_min"], m["lr_warmup"]) == ("cosine", "0.00100000005", "1"), m' \
    "$T/cos4.bin" || fail "cosine schedule not recorded"
"$BIN/vggtrain" --data "$T/data" --threads 1 --eval-batch-size 10 \
    --resume "$T/cos2.bin" --epochs 4 --out "$T/cos-const.bin" \
    --lr-schedule constant > "$T/cos-const.log" || fail "resume with --lr-schedule constant"
[ "$(grep -c '^epoch [34]/4  lr 0.01 ' "$T/cos-const.log")" = 2 ] ||
    fail "--lr-schedule constant on resume not applied: $(grep '^epoch' "$T/cos-const.log")"

# Without --out, --resume writes back to the resumed file.
cp "$T/half-copy.bin" "$T/inplace.bin"
"$BIN/vggtrain" --data "$T/data" --threads 1 --eval-batch-size 10 \
    --resume "$T/inplace.bin" --epochs 3 > /dev/null || fail "in-place resume"
python3 -c 'import json,struct,sys; b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]; assert json.loads(b[8:8+n])["__metadata__"]["epoch"]=="3"' \
    "$T/inplace.bin" || fail "in-place resume did not write epoch 3"

# Contradictions are usage errors naming the flag and the file; agreeing
# flags are fine.
expect_usage() {
    local want=$1; shift
    "$BIN/vggtrain" --data "$T/data" --threads 1 --resume "$T/half-copy.bin" \
        --out "$T/x.bin" "$@" > "$T/out" 2> "$T/err"
    local rc=$?
    [ $rc -eq 2 ] || fail "$* exited $rc, expected 2: $(cat "$T/err")"
    grep -q -- "$want" "$T/err" || fail "$*: message lacks '$want': $(cat "$T/err")"
    grep -q "half-copy.bin" "$T/err" || fail "$*: message lacks the file"
    echo "refused ($*): $(cat "$T/err")"
}
expect_usage "--classes 4" --epochs 4 --classes 4
expect_usage "--arch" --epochs 4 --arch "8 M 8 M"
expect_usage "--batch-size 8" --epochs 4 --batch-size 8
expect_usage "--lr 0.1" --epochs 4 --lr 0.1
expect_usage "--seed 8" --epochs 4 --seed 8
expect_usage "--limit-train 40" --epochs 4 --limit-train 40
expect_usage "already completed epoch 2" --epochs 2
"$BIN/vggtrain" --data "$T/data" --threads 1 --eval-batch-size 10 \
    --resume "$T/half-copy.bin" --out "$T/x.bin" --epochs 3 --classes 3 \
    --arch "8 M 16 M" --batch-size 16 --seed 7 > /dev/null ||
    fail "agreeing flags refused"

# A bad checkpoint to resume from: runtime error naming the file.
head -c 1000 "$T/half-copy.bin" > "$T/short.bin"
"$BIN/vggtrain" --data "$T/data" --resume "$T/short.bin" --epochs 4 \
    > /dev/null 2> "$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "short.bin" "$T/err" ||
    fail "truncated --resume: exit $rc, $(cat "$T/err")"

# A checkpoint that cannot be written: exit 1 with the path and reason.
"$BIN/vggtrain" "${common[@]}" --epochs 1 --out "$T/missing/model.bin" \
    > /dev/null 2> "$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "$T/missing/model.bin" "$T/err" &&
    grep -q "No such file" "$T/err" && ! grep -q "epoch 1" "$T/err" ||
    fail "unwritable --out: exit $rc, $(cat "$T/err")"
echo "write failure: $(cat "$T/err")"
echo "PASS"
