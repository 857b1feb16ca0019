#!/usr/bin/env bash
# Several machines on one: two "hosts" as network namespaces on a bridge,
# the ranks placed on them by mpirun through an agent in place of ssh, so
# that they talk over TCP only (tests/netns_hosts.sh). Checks that
#  - 2 hosts x 1 rank with --sync-bn equal 1 process on the same global
#    batch (to float32 rounding, bounded as in tests/cli_mpi.sh), and train
#    without it;
#  - a host with other data, other flags or another build stops the job at
#    start-up with one message naming the rank, the host and what differs;
#  - a checkpoint written by 2 ranks resumes on 1 and one written by 1
#    resumes on 2: epoch, random state, schedule and batch carry over
#    exactly, the weights to float32 rounding (docs/distributed.md).
set -euo pipefail
B=${VGG_BIN_DIR:?}; S=${VGG_SOURCE_DIR:?}
"$B/vggtrain" --version | grep -q MPI || { echo "skip: vggtrain built without MPI"; exit 77; }
T=$(mktemp -d)
source "$S/tests/netns_hosts.sh"
trap 'hosts_cleanup; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
hosts_start "$T" 2
cd "$T"
H0=$(host 0) H1=$(host 1)
python3 "$S/tests/synth_cifar.py" syn 3 20 30 >/dev/null
copy_data() { for h in "$H0" "$H1"; do rm -rf "host.$h/syn"; cp -r syn "host.$h/"; done; }
copy_data
A=(--arch "8 M 16 M" --epochs 3 --batch-size 16 --eval-batch-size 10 --threads 1)
skip='^optimizer\.momentum\.conv.*\.(0|3|6)\.bias$' # see cli_mpi.sh
# every rank reads its own copy, local/syn, mounted from host.NAME/syn
mpi() { "${MPIRUN[@]}" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

echo "== 2 hosts x 1 rank x 1 thread, --sync-bn, against 1 process"
"$B/vggtrain" "${A[@]}" --data syn --out one.bin >one.log
# the bound of tests/cli_mpi.sh: 8 times the difference another GEMM
# kernel makes (rounding only) to the 1-process run
kernel=$(sed -n 's/.*, gemm \([a-z0-9]*\).*/\1/p' one.log | head -1)
twin=openblas; [ "$kernel" != openblas ] || twin=generic
VGG_GEMM=$twin "$B/vggtrain" "${A[@]}" --data syn --out twin.bin >twin.log
grep -q ", gemm $twin" twin.log || fail "VGG_GEMM=$twin not in use"
mpi -np 2 "$B/vggtrain" "${A[@]}" --data local/syn --sync-bn --out two.bin >two.log 2>&1 ||
    { cat two.log; fail "2 hosts"; }
cat two.log
grep -q "2 processes (synchronised batch norm)" two.log
diff <(grep '^epoch' one.log | sed 's/time.*//') <(grep '^epoch' two.log | sed 's/time.*//')
python3 "$S/scripts/ckpt_diff.py" one.bin two.bin --noise one.bin twin.bin --skip "$skip" | tail -1

echo "== without --sync-bn: trains, one set of running statistics"
mpi -np 2 "$B/vggtrain" "${A[@]}" --data local/syn --out local.bin >local.log 2>&1 ||
    { cat local.log; fail "2 hosts without --sync-bn"; }
grep '^epoch 3/3' local.log
python3 - local.bin <<'PY'
import json, struct, sys
d = open(sys.argv[1], "rb").read()
n, = struct.unpack("<Q", d[:8]); h = json.loads(d[8:8 + n])
run = [k for k in h if "running" in k]
assert run, "no running statistics in the checkpoint"
print(f"{len(run)} running-statistics tensors written")
PY
# the running statistics are the same on both ranks: after every epoch the
# ranks compare a CRC-32 of their weights, momentum and statistics, and the
# run would stop otherwise; resuming checks the starting state the same way
grep -q '^epoch 3/3' local.log
mpi -np 2 "$B/vggtrain" --resume local.bin --data local/syn --epochs 4 --threads 1 \
    --out local4.bin >local4.log 2>&1 || { cat local4.log; fail "resume without --sync-bn"; }
grep -q '^epoch 4/4' local4.log

echo "== start-up agreement: another host's data, flags or build"
python3 - "host.$H1/syn/data_batch_2.bin" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[1000] ^= 1
open(p, "wb").write(b)
PY
rc=0; mpi -np 2 "$B/vggtrain" "${A[@]}" --data local/syn --out bad.bin >bad.log 2>&1 || rc=$?
cat bad.log | grep -v '^-\+$' | head -8
[ "$rc" = 1 ] || fail "another host's data: exit $rc, expected 1"
grep -q "rank 1 on host $H1 differs from rank 0 on host $H0" bad.log || fail "no rank and host named"
grep -q "^  data: rank 1 has training 100 records" bad.log || fail "data not named"
[ "$(grep -c 'differs from rank 0' bad.log)" = 1 ] || fail "not one message"
[ ! -e bad.bin ] || fail "a checkpoint was written"
copy_data
# flags: one rank given another --lr (mpirun's app contexts, a:b)
rc=0
"${MPIRUN[@]}" -np 1 -H "$H0" "$B/vggtrain" "${A[@]}" --data local/syn --out bad.bin : \
    -np 1 -H "$H1" "$B/vggtrain" "${A[@]}" --data local/syn --out bad.bin --lr 0.02 \
    >bad.log 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat bad.log; fail "other flags: exit $rc, expected 1"; }
grep -q "^  flags: rank 1 has .*'--lr' '0.02'" bad.log || { cat bad.log; fail "flags not named"; }
[ ! -e bad.bin ] || fail "a checkpoint was written"
# build: another OpenBLAS core on one host changes OpenBLAS's rounding
rc=0
"${MPIRUN[@]}" -np 1 -H "$H0" "$B/vggtrain" "${A[@]}" --data local/syn --out bad.bin : \
    -np 1 -H "$H1" -x OPENBLAS_CORETYPE=Sandybridge "$B/vggtrain" "${A[@]}" --data local/syn --out bad.bin \
    >bad.log 2>&1 || rc=$?
if grep -q "^  build: rank 1 has" bad.log; then
    [ "$rc" = 1 ] || fail "another build: exit $rc, expected 1"
    grep "^  build:" -A1 bad.log
    [ ! -e bad.bin ] || fail "a checkpoint was written"
else
    echo "(OpenBLAS here ignores OPENBLAS_CORETYPE: the build check is not exercised)"
fi

echo "== resume on another rank count"
R=(--arch "8 M 16 M" --batch-size 16 --eval-batch-size 10 --threads 1 --lr-schedule cosine)
"$B/vggtrain" "${R[@]}" --data syn --epochs 2 --out ref2.bin >/dev/null
cp ref2.bin ref4.bin
"$B/vggtrain" --resume ref4.bin --data syn --epochs 4 --threads 1 >ref4.log
mpi -np 2 "$B/vggtrain" "${R[@]}" --data local/syn --sync-bn --epochs 2 --out two2.bin >/dev/null 2>&1 ||
    fail "2 hosts, 2 epochs"
cp two2.bin r21.bin
"$B/vggtrain" --resume r21.bin --data syn --epochs 4 --threads 1 >r21.log
cp ref2.bin r12.bin
mpi -np 2 "$B/vggtrain" --resume r12.bin --data local/syn --sync-bn --epochs 4 --threads 1 \
    >r12.log 2>&1 || { cat r12.log; fail "resume on 2 hosts"; }
# what is exact: the metadata (epoch, random state, schedule, batch, the
# history's losses as printed); the tensors: to float32 rounding
meta() {
    python3 - "$@" <<'PY'
import json, struct, sys
def meta(p):
    d = open(p, "rb").read()
    n, = struct.unpack("<Q", d[:8]); m = json.loads(d[8:8 + n])["__metadata__"]
    m.pop("checksum", None)
    hist = json.loads(m.pop("history", "[]"))
    for e in hist:  # timings differ from run to run
        for k in list(e):
            if "second" in k or k in ("time", "images_per_second"): e.pop(k)
    return m, hist
(ma, ha), (mb, hb) = meta(sys.argv[1]), meta(sys.argv[2])
diff = {k: (ma.get(k), mb.get(k)) for k in set(ma) | set(mb) if ma.get(k) != mb.get(k)}
assert not diff, f"{sys.argv[1]} and {sys.argv[2]}: metadata differ: {diff}"
print(f"{sys.argv[1]} = {sys.argv[2]}: metadata ({len(ma)} fields: epoch {ma['epoch']}, rng {ma['rng_state']}) identical")
# the history's figures as the epoch lines print them
r = lambda h: [(e["epoch"], round(e["train_loss"], 4), round(e["test_loss"], 4)) for e in h]
assert r(ha) == r(hb), f"history differs: {r(ha)} {r(hb)}"
PY
}
meta two2.bin ref2.bin
python3 "$S/scripts/ckpt_diff.py" two2.bin ref2.bin --max-rel 1e-5 --skip "$skip" | tail -1
echo "2 ranks -> 1:"
meta r21.bin ref4.bin
python3 "$S/scripts/ckpt_diff.py" r21.bin ref4.bin --max-rel 1e-5 --skip "$skip" | tail -1
echo "1 rank -> 2:"
grep -q "resuming r12.bin after epoch 2 of 4" r12.log
meta r12.bin ref4.bin
python3 "$S/scripts/ckpt_diff.py" r12.bin ref4.bin --max-rel 1e-5 --skip "$skip" | tail -1
diff <(grep '^epoch' ref4.log | sed 's/time.*//') <(grep '^epoch' r21.log | sed 's/time.*//')
diff <(grep '^epoch' ref4.log | sed 's/time.*//') <(grep '^epoch' r12.log | sed 's/time.*//')
echo "1 passed, 0 failed"
