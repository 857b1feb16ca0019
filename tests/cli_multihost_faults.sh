#!/usr/bin/env bash
# Faults between hosts (network namespaces, tests/netns_hosts.sh), each
# checked for exit status, time, message and the checkpoint afterwards:
#   a rank SIGKILLed mid-epoch        ends within 30 s (Open MPI: ~2 s)
#   a host whose data is missing,     every rank exits 1 with that rank's
#     truncated or altered            message within 30 s; no checkpoint
#   the network of a host cut         ends within 30 s (the recipe's oob
#                                     keepalive: 5 + 3 x 2 s)
#   a rank frozen (SIGSTOP)           ends within --mpi-timeout + 15 s (the
#                                     watchdog of the other rank)
#   SIGINT to mpirun                  the checkpoint kept, the resume hint
# After each, the last checkpoint scores as its epoch line said and
# --resume continues from it.
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
python3 "$S/tests/synth_cifar.py" syn 3 60 30 >/dev/null
copy_data() { for h in "$H0" "$H1"; do rm -rf "host.$h/syn"; cp -r syn "host.$h/"; done; }
copy_data
A=(--arch "8 M 16 M" --data local/syn --batch-size 16 --eval-batch-size 10 --threads 1)
fail() { echo "FAIL: $*"; exit 1; }

# start NAME ARGS...: mpirun in the background, output in NAME.log
start() {
    local name=$1; shift
    "${MPIRUN[@]}" "$@" >"$name.log" 2>&1 &
    JOB=$!
}
# until_epoch NAME E: waits (at most 60 s) until epoch E is printed
until_epoch() {
    for _ in $(seq 600); do
        grep -q "^epoch $2/" "$1.log" && return 0
        kill -0 "$JOB" 2>/dev/null || { cat "$1.log"; fail "$1 ended early"; }
        sleep 0.1
    done
    fail "$1: no epoch $2 within 60 s"
}
# ends NAME BOUND: waits for the job; fails (and kills it) past BOUND
# seconds from now; sets RC and SECS
ends() {
    local t0=$SECONDS
    for _ in $(seq $(($2 * 10))); do
        kill -0 "$JOB" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$JOB" 2>/dev/null; then
        kill -9 "$JOB"; cat "$1.log"; fail "$1: still running after $2 s"
    fi
    RC=0; wait "$JOB" || RC=$?
    SECS=$((SECONDS - t0))
    echo "$1: exit $RC after ${SECS} s (bound $2 s)"
}
rank_pid() { # the vggtrain process on host $1
    local p
    for p in $(ip netns pids "$1"); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = vggtrain ] && { echo "$p"; return; }
    done
}
# intact CKPT LOG: the checkpoint scores as the epoch line it holds said,
# and --resume on 2 hosts continues it by one epoch
intact() {
    local e
    e=$(python3 - "$1" <<'PY'
import json, struct, sys
d = open(sys.argv[1], "rb").read()
n, = struct.unpack("<Q", d[:8]); print(json.loads(d[8:8 + n])["__metadata__"]["epoch"])
PY
)
    [ "$e" -ge 1 ] || fail "$1 holds epoch $e"
    "$B/vggeval" "$1" --data syn --threads 1 --json >"$1.json"
    python3 - "$1.json" "$2" "$e" <<'PY'
import json, re, sys
ev = json.load(open(sys.argv[1]))
line = [l for l in open(sys.argv[2]) if l.startswith(f"epoch {sys.argv[3]}/")][0]
loss, acc = re.search(r"test_loss ([\d.]+)\s+test_acc ([\d.]+)%", line).groups()
assert ev["epoch"] == int(sys.argv[3])
assert f"{ev['loss']:.4f}" == loss and f"{100 * ev['accuracy']:.2f}" == acc, (ev, line)
print(f"  epoch {ev['epoch']} scores loss {loss}, accuracy {acc}% as its epoch line")
PY
    "${MPIRUN[@]}" -np 2 "$B/vggtrain" --resume "$1" --data local/syn --threads 1 \
        --epochs $((e + 1)) --out "$1.next" >"$1.resume.log" 2>&1 ||
        { cat "$1.resume.log"; fail "--resume $1"; }
    grep -q "^epoch $((e + 1))/$((e + 1))" "$1.resume.log"
    echo "  --resume continues with epoch $((e + 1))"
}
gone() { # no process of the job is left on the hosts (10 s to go)
    for _ in $(seq 100); do
        [ -z "$(ip netns pids "$H0")$(ip netns pids "$H1")" ] && return 0
        sleep 0.1
    done
    ps -o pid,etime,args -p "$(ip netns pids "$H0") $(ip netns pids "$H1")" || true
    fail "processes left on the hosts"
}

echo "== a rank SIGKILLed mid-epoch"
start kill -np 2 "$B/vggtrain" "${A[@]}" --epochs 1000 --out kill.bin
until_epoch kill 2
sleep 0.3
kill -9 "$(rank_pid "$H1")"
ends kill 30
[ "$RC" != 0 ] || fail "exit 0"
grep -q "rank 1 .* on node $H1 exited on signal 9" kill.log || { cat kill.log; fail "no lost rank named"; }
grep "exited on signal 9" kill.log
gone
intact kill.bin kill.log

echo "== a host's data missing, truncated or altered"
for fault in missing truncated altered; do
    copy_data
    f=host.$H1/syn/data_batch_3.bin
    case $fault in
    missing) rm "$f"; want="data_batch_3.bin" ;;
    truncated) truncate -s 5000 "$f"; want="data_batch_3.bin" ;;
    altered) printf '\001' | dd of="$f" bs=1 seek=4000 conv=notrunc status=none
             want="data: rank 1 has training" ;;
    esac
    rc=0; t0=$SECONDS
    "${MPIRUN[@]}" -np 2 "$B/vggtrain" "${A[@]}" --epochs 2 --out data.bin >data.log 2>&1 || rc=$?
    echo "$fault: exit $rc after $((SECONDS - t0)) s: $(grep -m1 "$want" data.log)"
    [ "$rc" = 1 ] || { cat data.log; fail "$fault data: exit $rc, expected 1"; }
    [ $((SECONDS - t0)) -le 30 ] || fail "$fault data: more than 30 s"
    grep -q "$want" data.log || { cat data.log; fail "$fault data: no message"; }
    grep -q "rank 1 on host $H1" data.log || { cat data.log; fail "$fault data: rank and host not named"; }
    [ "$(grep -c "$want" data.log)" = 1 ] || fail "$fault data: not one message"
    [ ! -e data.bin ] || fail "$fault data: a checkpoint was written"
done
copy_data

echo "== the network of a host cut mid-run"
start cut -np 2 "$B/vggtrain" "${A[@]}" --epochs 1000 --out cut.bin
until_epoch cut 2
sleep 0.3
ip -n "$H1" link set vgg0 down
ends cut 30
[ "$RC" != 0 ] || fail "exit 0"
grep -q "lost communication with a remote daemon" cut.log || { cat cut.log; fail "no lost host named"; }
grep -A3 "lost communication" cut.log | grep "Remote daemon" | grep -q "$H1" || { cat cut.log; fail "lost host not named"; }
grep -A3 "lost communication" cut.log | grep "Remote daemon"
gone
ip -n "$H1" link set vgg0 up
intact cut.bin cut.log

echo "== a rank frozen (SIGSTOP): the watchdog, --mpi-timeout 5"
start stop -np 2 "$B/vggtrain" "${A[@]}" --epochs 1000 --mpi-timeout 5 --out stop.bin
until_epoch stop 2
sleep 0.3
kill -STOP "$(rank_pid "$H1")"
ends stop 20
[ "$RC" != 0 ] || fail "exit 0"
grep -q "rank 0 on host $H0: .* has waited 5 s for rank 1 on $H1" stop.log || { cat stop.log; fail "no watchdog message"; }
grep "has waited" stop.log
# the frozen rank, woken to be ended, does not blame the others
[ "$(grep -c 'has waited' stop.log)" = 1 ] || fail "more than one watchdog message"
gone
intact stop.bin stop.log

echo "== SIGINT to mpirun"
start int -np 2 "$B/vggtrain" "${A[@]}" --epochs 1000 --out int.bin
until_epoch int 2
sleep 0.3
kill -INT "$JOB"
ends int 30
[ "$RC" != 0 ] || fail "exit 0"
grep -q "during epoch .*; int.bin holds epoch .* Continue with:" int.log || { cat int.log; fail "no resume hint"; }
grep -A1 "Continue with" int.log
gone
intact int.bin int.log
echo "1 passed, 0 failed"
