#!/bin/bash
# Faults and bad input for vggtrain and vggeval, on synthetic
# CIFAR files and tiny networks. Each case provokes one fault and checks
# the exit status, that the message names the flag or file, that nothing
# crashed (exit < 128), and -- for write failures, interruptions and
# divergence -- that the last good checkpoint still loads and scores the
# same in vggeval. docs/faults.md tabulates what this observes.
#
# Every case runs even when an earlier one fails; the failures are listed at
# the end. Cases that cannot be provoked here (no mount permission) are
# reported as skipped. Set FAULTS_VERBOSE=1 to print every message.
set -u
BIN=${VGG_BIN_DIR:?}
SRC=${VGG_SOURCE_DIR:?}
command -v python3 > /dev/null || { echo "no python3: skipped"; exit 77; }
[ -x "$BIN/vggtrain" ] && [ -x "$BIN/vggeval" ] ||
    { echo "vggtrain or vggeval not built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_faults.XXXXXX")
MNT=
cleanup() {
    [ -n "$MNT" ] && umount "$MNT" 2> /dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# vggtrain calls MPI_Init even without mpirun; Open MPI's singleton start-up
# (a helper daemon, network probing) costs ~0.4 s a run, ~0.15 s with these,
# over about 100 runs (4x that under the sanitizers). The interruption cases
# below run without them, as a user's Ctrl-C would.
export OMPI_MCA_ess_singleton_isolated=1 OMPI_MCA_pml=ob1 OMPI_MCA_btl=self

failures=()
passed=0
skipped=()
fail() { failures+=("$*"); echo "FAIL: $*"; }
ok() { passed=$((passed + 1)); echo "ok: $*"; }
skip() { skipped+=("$*"); echo "SKIP: $*"; }

# run NAME CMD...: runs CMD with stdout in $T/NAME.out, stderr in
# $T/NAME.err; sets rc.
run() {
    local name=$1; shift
    "$@" > "$T/$name.out" 2> "$T/$name.err" < /dev/null
    rc=$?
}

# expect RC MESSAGE NAME CMD...: exit status RC (an exact number), stderr
# holding MESSAGE (fixed text) and naming no crash.
expect() {
    local want=$1 msg=$2 name=$3; shift 3
    run "$name" "$@"
    local err
    err=$(head -c 600 "$T/$name.err")
    if [ "$rc" -ge 128 ] || grep -qE 'Sanitizer|runtime error' "$T/$name.err"; then
        fail "$name: crashed (exit $rc): $err"
    elif [ "$rc" -ne "$want" ]; then
        fail "$name: exit $rc, expected $want: $err"
    elif ! grep -qF -- "$msg" "$T/$name.err"; then
        fail "$name: exit $rc but the message lacks '$msg': $err"
    else
        ok "$name: exit $rc"
        [ -n "${FAULTS_VERBOSE:-}" ] && sed 's/^/    /' "$T/$name.err"
    fi
}

# The last good checkpoint: loads, and scores what it scored before.
score() { # FILE -> the "images N correct C test_loss L test_acc A%" line
    "$BIN/vggeval" "$1" --data "$T/data" --threads 1 2> /dev/null | grep '^images '
}
ckpt_epoch() {
    python3 -c 'import json,struct,sys
b=open(sys.argv[1],"rb").read(); n=struct.unpack("<Q",b[:8])[0]
print(json.loads(b[8:8+n])["__metadata__"]["epoch"])' "$1" 2> /dev/null
}
same_score() { # NAME FILE BEFORE
    local now
    now=$(score "$2")
    if [ -z "$now" ]; then
        fail "$1: the last good checkpoint $2 no longer loads"
    elif [ "$now" != "$3" ]; then
        fail "$1: $2 scores '$now', before the fault '$3'"
    else
        ok "$1: last good checkpoint loads and scores the same ($now)"
    fi
}

python3 "$SRC/tests/synth_cifar.py" "$T/data" 3 40 60 || { echo "synthetic data failed"; exit 1; }
tiny=(--data "$T/data" --arch "8 M 16 M" --classes 3 --threads 1
      --batch-size 16 --eval-batch-size 20 --limit-train 60)
"$BIN/vggtrain" "${tiny[@]}" --epochs 1 --out "$T/good.bin" > /dev/null ||
    { echo "cannot train the tiny network"; exit 1; }
good_score=$(score "$T/good.bin")
[ -n "$good_score" ] || { echo "vggeval cannot score a good checkpoint"; exit 1; }

# ---- bad command lines: exit 2, the message names the flag ------------
echo "== command lines"
targ() { expect 2 "$1" "train_args_$2" "$BIN/vggtrain" "${@:3}"; }
targ "--bogus"          unknown          --bogus
targ "-x"               unknown_short    -x
targ "stray"            positional       stray
targ "--epochs"         missing_value    --data "$T/data" --epochs
targ "--epochs"         empty_value      --epochs=
targ "--epochs"         not_a_number     --epochs abc
targ "--epochs"         trailing_junk    --epochs 3x
targ "--epochs"         zero_epochs      --epochs 0
targ "--epochs"         epochs_overflow  --epochs 99999999999999999999
targ "--lr"             lr_word          --lr fast
targ "--lr"             lr_zero          --lr 0
targ "--lr"             lr_nan           --lr nan
targ "--lr"             lr_inf           --lr inf
targ "--momentum"       momentum_range   --momentum 1.5
targ "--weight-decay"   decay_negative   --weight-decay -1
targ "--classes"        classes_high     --classes 11
targ "--classes"        classes_low      --classes 1
targ "--batch-size"     batch_zero       --batch-size 0
targ "--batch-size"     batch_huge       --batch-size 100000
targ "--eval-batch-size" eval_batch_zero --eval-batch-size 0
targ "--threads"        threads_zero     --threads 0
targ "--limit-train"    limit_negative   --limit-train -5
targ "--limit-test"     limit_test_word  --limit-test many
targ "--seed"           seed_negative    --seed -1
targ "--seed"           seed_word        --seed x
targ "--conv"           conv_word        --conv fast
targ "--arch"           arch_bad         --arch "8 X 16"
targ "--arch"           arch_zero        --arch "0 M"
targ "--arch"           arch_too_wide    --arch "5000"
targ "--arch"           arch_empty       --arch ""
targ "--arch"           arch_pools       --arch "8 M M M M M M"
targ "--out"            out_empty        --out ""
targ "--resume"         resume_empty     --resume ""
many_sched=(); for _ in $(seq 17); do many_sched+=(--warmup 0); done
targ "more than 16 schedule flags" sched_flags_many "${many_sched[@]}"
ev() { expect 2 "$1" "eval_args_$2" "$BIN/vggeval" "${@:3}"; }
ev "MODEL"            no_model
ev "--bogus"          unknown          "$T/good.bin" --bogus
ev "--batch-size"     batch_zero       "$T/good.bin" --batch-size 0
ev "--batch-size"     batch_missing    "$T/good.bin" --batch-size
ev "--threads"        threads_word     "$T/good.bin" --threads many
ev "--limit-test"     limit_negative   "$T/good.bin" --limit-test -1

# ---- bad data: exit 1, the message names the file or flag -------------
echo "== data"
mkdata() { rm -rf "$T/d"; cp -r "$T/data" "$T/d"; }
t1() { expect 1 "$1" "data_$2" "$BIN/vggtrain" "${tiny[@]}" --epochs 1 --out "$T/x.bin" "${@:3}"; }
t1 "$T/nowhere" missing_folder --data "$T/nowhere"
mkdata; rm "$T/d/data_batch_3.bin"
t1 "data_batch_3.bin" missing_file --data "$T/d"
mkdata; rm "$T/d/batches.meta.txt"
t1 "batches.meta.txt" missing_meta --data "$T/d"
mkdata; printf 'airplane\nautomobile\n' > "$T/d/batches.meta.txt"
t1 "batches.meta.txt" short_meta --data "$T/d"
mkdata; truncate -s -1 "$T/d/test_batch.bin"
t1 "test_batch.bin" wrong_size --data "$T/d"
mkdata; : > "$T/d/data_batch_2.bin"
t1 "data_batch_2.bin" empty_file --data "$T/d"
mkdata; printf '\x0c' | dd of="$T/d/data_batch_2.bin" bs=1 seek=3073 conv=notrunc 2> /dev/null
t1 "label 12" label_out_of_range --data "$T/d"
grep -qF "data_batch_2.bin" "$T/data_label_out_of_range.err" &&
    grep -qF "offset 3073" "$T/data_label_out_of_range.err" &&
    ok "data_label_out_of_range: names the file and the byte offset" ||
    fail "data_label_out_of_range: message lacks the file or offset: $(cat "$T/data_label_out_of_range.err")"
mkdata; rm "$T/d/test_batch.bin"; mkdir "$T/d/test_batch.bin"
t1 "test_batch.bin" file_is_a_folder --data "$T/d"
grep -qF "not a regular file" "$T/data_file_is_a_folder.err" && ok "data_file_is_a_folder: says it is not a file" ||
    fail "data_file_is_a_folder: unclear message: $(cat "$T/data_file_is_a_folder.err")"
mkdata; rm "$T/d/batches.meta.txt"; mkdir "$T/d/batches.meta.txt"
t1 "batches.meta.txt" meta_is_a_folder --data "$T/d"
# Labels cycle 0,1,2: the first two images hold no class 2.
t1 "--limit-train" class_missing_after_limit --limit-train 2
t1 "--limit-test" test_class_missing_after_limit --limit-test 1
# A test split with no image of the first two classes.
mkdata
python3 -c 'import sys
d=bytearray(open(sys.argv[1],"rb").read())
for i in range(0,len(d),3073): d[i]=7
open(sys.argv[1],"wb").write(d)' "$T/d/test_batch.bin"
t1 "no images" empty_test_split --data "$T/d" --classes 2
expect 1 "test_batch.bin" eval_empty_test_split "$BIN/vggeval" "$T/good.bin" --data "$T/d"
mkdata; rm "$T/d/test_batch.bin"
expect 1 "test_batch.bin" eval_missing_test_file "$BIN/vggeval" "$T/good.bin" --data "$T/d"

# ---- bad checkpoints: exit 1 naming the file, for vggeval and --resume -
echo "== checkpoints"
python3 - "$T/good.bin" "$T" <<'PY'
import os, random, struct, sys, zlib
good, d = sys.argv[1], sys.argv[2]
b = open(good, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
rng = random.Random(3)
def put(name, x):
    open(os.path.join(d, name), "wb").write(x)
put("truncated.bin", b[:len(b) // 2])
put("truncated-header.bin", b[:8 + n // 2])
put("short-by-one.bin", b[:-1])
put("random.bin", bytes(rng.getrandbits(8) for _ in range(5000)))
put("empty.bin", b"")
put("seven.bin", b[:7])
put("huge-header.bin", struct.pack("<Q", 1 << 60) + b[8:])
put("header-past-end.bin", struct.pack("<Q", len(b)) + b[8:])
flip = bytearray(b); flip[-3] ^= 1
put("bitflip.bin", bytes(flip))
put("cifar-as-checkpoint.bin", open(os.path.join(d, "data", "test_batch.bin"), "rb").read()[:20000])
put("json-not-object.bin", struct.pack("<Q", 8) + b"[1,2,3] ")
# Valid JSON, right size, but a shape that disagrees with the metadata.
h = b[8:8 + n].decode().replace('"shape":[8,3,3,3]', '"shape":[3,8,3,3]')
hb = h.encode()
put("wrong-shape.bin", struct.pack("<Q", len(hb)) + hb + b[8 + n:])
PY
mkdir "$T/a-folder.bin"
for f in truncated truncated-header short-by-one random empty seven huge-header \
         header-past-end bitflip cifar-as-checkpoint json-not-object wrong-shape \
         a-folder missing; do
    expect 1 "$f.bin" "eval_ckpt_$f" "$BIN/vggeval" "$T/$f.bin" --data "$T/data"
    expect 1 "$f.bin" "resume_ckpt_$f" "$BIN/vggtrain" --data "$T/data" \
        --threads 1 --resume "$T/$f.bin" --epochs 3 --out "$T/x.bin"
done
grep -qF "checksum" "$T/eval_ckpt_bitflip.err" && ok "bitflip: reported as a checksum mismatch" ||
    fail "bitflip: no checksum message: $(cat "$T/eval_ckpt_bitflip.err")"
[ ! -e "$T/x.bin" ] && ok "bad --resume files wrote no checkpoint" ||
    fail "a refused --resume still wrote $T/x.bin"
"$BIN/vggeval" "$T/good.bin" --data "$T/data" > /dev/full 2> "$T/eval_full.err"
rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && ok "vggeval > /dev/full: exit $rc ($(head -1 "$T/eval_full.err"))" ||
    fail "vggeval > /dev/full: exit $rc, the lost report went unnoticed"

# ---- checkpoint writes that fail --------------------------------------
echo "== checkpoint writes"
t1 "$T/missing/model.bin" out_missing_folder --out "$T/missing/model.bin"
t1 "/dev/full/model.bin" out_parent_is_a_file --out /dev/full/model.bin
mkdir -p "$T/outdir"
expect 2 "$T/outdir: is a folder" out_is_a_folder "$BIN/vggtrain" "${tiny[@]}" --epochs 1 --out "$T/outdir"
ls "$T/outdir" | grep -q . && fail "out_is_a_folder: left $(ls "$T/outdir") behind" ||
    ok "out_is_a_folder: no temporary left behind"

# Disk full after a good epoch: a file-size limit (EFBIG, works as any
# user) and, where mounting works, a tmpfs too small for a second copy.
cp "$T/good.bin" "$T/limited.bin"
size_kb=$(( ($(stat -c %s "$T/good.bin") + 1023) / 1024 ))
# PMIX_MCA_gds=hash: Open MPI's singleton MPI_Init (vggtrain is an MPI
# program) otherwise aborts creating its shared-memory store under the limit.
(trap '' XFSZ; ulimit -f $((size_kb / 2)); PMIX_MCA_gds=hash exec "$BIN/vggtrain" --data "$T/data" \
    --threads 1 --resume "$T/limited.bin" --epochs 2) > "$T/fsize.out" 2> "$T/fsize.err"
rc=$?
if [ $rc -eq 1 ] && grep -qF "$T/limited.bin" "$T/fsize.err" &&
   grep -qiE "too large|unchanged" "$T/fsize.err"; then
    ok "write_file_too_large: exit 1: $(grep -F limited.bin "$T/fsize.err" | head -1)"
else
    fail "write_file_too_large: exit $rc: $(cat "$T/fsize.err")"
fi
cmp -s "$T/good.bin" "$T/limited.bin" && ok "write_file_too_large: previous checkpoint byte-identical" ||
    fail "write_file_too_large: previous checkpoint changed"
same_score write_file_too_large "$T/limited.bin" "$good_score"
ls -A "$T" | grep -q '^\.limited\.bin\.tmp' && fail "write_file_too_large: temporary left behind" ||
    ok "write_file_too_large: no temporary left behind"

MNT=$T/small
mkdir -p "$MNT"
ckpt_bytes=$(stat -c %s "$T/good.bin")
if mount -t tmpfs -o size=$(( ckpt_bytes * 3 / 2 + 8192 )) tmpfs "$MNT" 2> /dev/null; then
    cp "$T/good.bin" "$MNT/model.bin"
    expect 1 "$MNT/model.bin" write_disk_full "$BIN/vggtrain" --data "$T/data" \
        --threads 1 --resume "$MNT/model.bin" --epochs 2
    grep -qF "No space left" "$T/write_disk_full.err" && ok "write_disk_full: says why (ENOSPC)" ||
        fail "write_disk_full: no reason given: $(cat "$T/write_disk_full.err")"
    cmp -s "$T/good.bin" "$MNT/model.bin" && ok "write_disk_full: previous checkpoint byte-identical" ||
        fail "write_disk_full: previous checkpoint changed"
    same_score write_disk_full "$MNT/model.bin" "$good_score"
    [ "$(ls -A "$MNT")" = model.bin ] && ok "write_disk_full: no temporary left behind" ||
        fail "write_disk_full: left $(ls -A "$MNT") behind"
    umount "$MNT"
else
    skip "write_disk_full: cannot mount a small tmpfs here (not root?); the file-size limit case covers ENOSPC-like failures"
fi
MNT=

# ---- divergence: non-finite loss stops the run, last good kept --------
echo "== divergence"
# A checkpoint whose classifier weights are huge (finite, checksum right):
# the first forward overflows to inf and the loss is NaN.
python3 - "$T/good.bin" "$T/diverge.bin" <<'PY'
import json, struct, sys, zlib
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
data = bytearray(b[8 + n:])
s, e = h["fc1.weight"]["data_offsets"]
data[s:e] = struct.pack("<f", 3e38) * ((e - s) // 4)
h["__metadata__"]["checksum"] = "crc32:%08x" % (zlib.crc32(bytes(data)) & 0xffffffff)
hj = json.dumps(h, separators=(",", ":")).encode()
hj += b" " * (-(8 + len(hj)) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(hj)) + hj + bytes(data))
PY
cp "$T/diverge.bin" "$T/diverge-copy.bin"
run diverge "$BIN/vggtrain" --data "$T/data" --threads 1 --resume "$T/diverge.bin" --epochs 3
err=$(head -c 400 "$T/diverge.err")
if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qiE "non-finite|diverg|nan" "$T/diverge.err" &&
   grep -qiE "epoch 2" "$T/diverge.err" && grep -qi "batch" "$T/diverge.err"; then
    ok "diverge: exit $rc naming epoch and batch: $err"
else
    fail "diverge: exit $rc, expected non-zero with a message naming the epoch and batch: ${err:-no message}"
fi
cmp -s "$T/diverge.bin" "$T/diverge-copy.bin" && ok "diverge: last good checkpoint untouched" ||
    fail "diverge: the checkpoint was overwritten (epoch $(ckpt_epoch "$T/diverge.bin"))"
python3 - "$T/diverge.bin" <<'PY' && ok "diverge: no NaN weights written" || fail "diverge: NaN or inf written"
import json, math, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); d = b[8 + n:]
for k, v in h.items():
    if k == "__metadata__" or v["dtype"] != "F32": continue
    s, e = v["data_offsets"]
    assert all(math.isfinite(x) for x in struct.unpack("<%df" % ((e - s) // 4), d[s:e])), k
PY
# From scratch with an absurd learning rate: either it trains or it stops
# cleanly; never a crash, never NaN weights on disk.
run diverge_lr "$BIN/vggtrain" "${tiny[@]}" --epochs 3 --lr 100 --momentum 0.99 --out "$T/lr.bin"
if [ $rc -ge 128 ]; then fail "diverge_lr: crashed (exit $rc)"
else ok "diverge_lr: --lr 100 exit $rc: $(head -c 200 "$T/diverge_lr.err")"; fi

# ---- interruption -----------------------------------------------------
echo "== interruption"
unset OMPI_MCA_ess_singleton_isolated OMPI_MCA_pml OMPI_MCA_btl
# Job control: background jobs get SIGINT's default disposition, not the
# SIG_IGN a non-interactive shell gives them.
set -m
long=(--data "$T/data" --arch "8 M 16 M" --classes 3 --threads 1 --batch-size 4
      --eval-batch-size 20 --epochs 100000)
# start_run OUT: background training; waits for its first checkpoint.
start_run() {
    "$BIN/vggtrain" "${long[@]}" --out "$1" > "$T/sig.out" 2> "$T/sig.err" &
    pid=$!
    for _ in $(seq 200); do
        [ -s "$1" ] && break
        sleep 0.1
    done
    sleep 0.3 # now mid-epoch
}
# wait_for PID SECONDS: sets wrc to the exit status, or 255 after killing
# a run still alive after SECONDS.
wait_for() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2> /dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2> /dev/null; then
        kill -KILL "$1"
        wait "$1" 2> /dev/null
        wrc=255
        return
    fi
    wait "$1"
    wrc=$?
}
for sig in INT TERM; do
    start_run "$T/sig-$sig.bin"
    before=$(ckpt_epoch "$T/sig-$sig.bin")
    kill -$sig $pid
    wait_for $pid 20
    rc=$wrc
    after=$(ckpt_epoch "$T/sig-$sig.bin")
    msg=$(tr '\n' ' ' < "$T/sig.err" | head -c 300)
    if [ "$rc" = 255 ]; then
        fail "SIG$sig: still running 20 s after the signal"
    elif [ "$rc" -eq 0 ]; then
        fail "SIG$sig: exit 0 after an interruption; expected non-zero"
    elif ! grep -qF -- "--resume" "$T/sig.err"; then
        fail "SIG$sig: exit $rc but no message on how to resume (--resume): ${msg:-no message}"
    else
        ok "SIG$sig: exit $rc, $msg"
    fi
    [ -n "$after" ] && [ "$after" -ge "${before:-1}" ] &&
        ok "SIG$sig: checkpoint $T/sig-$sig.bin loads (epoch $before before the signal, $after after)" ||
        fail "SIG$sig: the checkpoint does not load after the signal"
    if [ -n "$after" ]; then
        s=$(score "$T/sig-$sig.bin")
        [ -n "$s" ] && ok "SIG$sig: vggeval scores it ($s)" || fail "SIG$sig: vggeval cannot score it"
        run "resume_after_$sig" "$BIN/vggtrain" --data "$T/data" --threads 1 \
            --resume "$T/sig-$sig.bin" --epochs $((after + 1))
        [ $rc -eq 0 ] && [ "$(ckpt_epoch "$T/sig-$sig.bin")" = $((after + 1)) ] &&
            ok "SIG$sig: --resume continues to epoch $((after + 1))" ||
            fail "SIG$sig: --resume after the interruption: exit $rc: $(head -c 300 "$T/resume_after_$sig.err")"
    fi
    ls -A "$T" | grep -q "^\.sig-$sig\.bin\.tmp" && fail "SIG$sig: temporary left behind" ||
        ok "SIG$sig: no temporary left behind"
done

# A second SIGINT exits at once, and the last good checkpoint survives.
start_run "$T/sig2.bin"
kill -INT $pid
sleep 0.05
kill -INT $pid 2> /dev/null
t0=$(date +%s%N)
wait_for $pid 10
rc=$wrc
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "$rc" = 255 ]; then
    fail "second SIGINT: still running 10 s later"
elif [ "$rc" -eq 0 ]; then
    fail "second SIGINT: exit 0"
else
    ok "second SIGINT: exit $rc within ${ms} ms: $(tr '\n' ' ' < "$T/sig.err" | head -c 200)"
fi
s=$(score "$T/sig2.bin")
[ -n "$s" ] && ok "second SIGINT: last checkpoint loads and scores ($s)" ||
    fail "second SIGINT: the last checkpoint no longer loads"
set +m

echo
echo "cli_faults: $passed checks passed, ${#failures[@]} failed, ${#skipped[@]} skipped"
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
for f in "${failures[@]}"; do echo "  failed: $f"; done
[ ${#failures[@]} -eq 0 ]
