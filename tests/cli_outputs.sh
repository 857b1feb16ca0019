#!/bin/bash
# Every output flag of every program against every kind of target: a new
# name, a regular file, a symbolic link (to a file, dangling), a null and a
# full character device, a FIFO with and without a reader, a folder, a
# unix socket and a block device. The nodes are made in a scratch folder
# (mknod c 1 3 / c 1 7 / c 1 5 / b 7 0, mkfifo, ln -s, python3 for the
# socket), never in the real /dev. For each: the exit status, the message
# (flag and path), that the node is still there with its type, and for
# links that the target holds what was written (a checkpoint vggeval
# scores). Then outputs that are inputs, inputs that are not files, and a
# link given to --resume. docs/faults.md tabulates what this observes.
#
# Where mknod is not permitted the device cases are reported as skipped
# with the reason; everything else still runs. OUTPUTS_VERBOSE=1 prints
# every message.
set -u
BIN=${VGG_BIN_DIR:?}
SRC=${VGG_SOURCE_DIR:?}
command -v python3 > /dev/null || { echo "no python3: skipped"; exit 77; }
[ -x "$BIN/vggtrain" ] && [ -x "$BIN/vggeval" ] ||
    { echo "vggtrain or vggeval not built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_outputs.XXXXXX")
readers=()
cleanup() {
    for p in "${readers[@]}"; do kill "$p" 2> /dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
# Open MPI's singleton start-up, made cheap (see cli_faults.sh).
export OMPI_MCA_ess_singleton_isolated=1 OMPI_MCA_pml=ob1 OMPI_MCA_btl=self

failures=()
passed=0
skipped=()
fail() { failures+=("$*"); echo "FAIL: $*"; }
ok() { passed=$((passed + 1)); echo "ok: $*"; }
skip() { skipped+=("$*"); echo "SKIP: $*"; }
check() { # NAME CONDITION-TEXT: ok when the last command succeeded
    if [ "$2" = 0 ]; then ok "$1"; else fail "$1"; fi
}

python3 "$SRC/tests/synth_cifar.py" "$T/data" 3 16 12 > /dev/null ||
    { echo "synthetic data failed"; exit 1; }
tiny=(--data "$T/data" --arch "8 M 16 M" --threads 1 --batch-size 16
      --eval-batch-size 12 --epochs 1 --quiet)
"$BIN/vggtrain" "${tiny[@]}" --out "$T/good.bin" > /dev/null ||
    { echo "cannot train the tiny network"; exit 1; }
score() { "$BIN/vggeval" "$1" --data "$T/data" --threads 1 2> /dev/null | grep '^images '; }
[ -n "$(score "$T/good.bin")" ] || { echo "vggeval cannot score a checkpoint"; exit 1; }

MKNOD=1
if ! mknod "$T/probe" c 1 3 2> "$T/mknod.err"; then
    MKNOD=0
    skip "device nodes: mknod is not permitted here ($(cat "$T/mknod.err")); the null, full, zero and block-device cases are not run"
fi
rm -f "$T/probe"

# What `stat -c %F` says each kind is, and the device numbers.
declare -A TYPE=([null]="character special file" [full]="character special file"
    [zero]="character special file" [block]="block special file" [fifo]="fifo"
    [noreader]="fifo" [dir]="directory" [socket]="socket" [link]="symbolic link"
    [dangling]="symbolic link" [file]="regular file" [new]="regular file")
declare -A DEVNO=([null]="1:3" [full]="1:7" [zero]="1:5" [block]="7:0")

# make KIND PATH: makes the target; a link points, relatively, into
# $T/real/ (a file for link, nothing yet for dangling).
make() {
    mkdir -p "$T/real"
    local real="$T/real/$(basename "$2")"
    rm -rf "$2" "$real"
    case $1 in
    null) mknod "$2" c 1 3 ;;
    full) mknod "$2" c 1 7 ;;
    zero) mknod "$2" c 1 5 ;;
    block) mknod "$2" b 7 0 ;;
    fifo | noreader) mkfifo "$2" ;;
    dir) mkdir "$2" ;;
    socket) python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$2" ;;
    link) : > "$real" && ln -s "real/$(basename "$2")" "$2" ;;
    dangling) ln -s "real/$(basename "$2")" "$2" ;;
    file) : > "$2" ;;
    new) ;;
    esac
}

# run FLAG PATH: the program that has FLAG, with FLAG PATH; sets rc, and
# $T/last.out, $T/last.err. The timeout catches a hang.
run() {
    local flag=$1 path=$2
    rm -f "$T/side.bin"
    case $flag in
    --out) set -- "$BIN/vggtrain" "${tiny[@]}" --out "$path" ;;
    --confusion | --logits) set -- "$BIN/vggeval" "$T/good.bin" --data "$T/data" \
        --threads 1 "$flag" "$path" ;;
    *) set -- "$BIN/vggtrain" "${tiny[@]}" --out "$T/side.bin" "$flag" "$path" ;;
    esac
    timeout 60 "$@" > "$T/last.out" 2> "$T/last.err" < /dev/null
    rc=$?
}

# What FLAG writes, by its first bytes: a checkpoint, a PNG, a CSV log.
looks_right() { # FLAG FILE
    case $1 in
    --out) python3 -c 'import json, struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]
assert json.loads(b[8:8 + n])["__metadata__"]["format"] == "vggtrain-checkpoint"' "$2" 2> /dev/null ;;
    --log) head -1 "$2" | grep -q '^epoch,lr,train_loss' ;;
    --batch-log) head -1 "$2" | grep -q '^epoch,batch,lr' ;;
    --logits) head -1 "$2" | grep -q '^label,' ;;
    *) [ "$(head -c 4 "$2" | od -An -c | tr -d ' ')" = "211PNG" ] ;;
    esac
}

# expect_kind NAME KIND PATH: the node is still what it was.
expect_kind() {
    local got
    got=$(stat -c %F "$3" 2> /dev/null)
    if [ "$got" != "${TYPE[$2]}" ]; then
        fail "$1: $3 is now '$got', was '${TYPE[$2]}'"
        return
    fi
    if [ -n "${DEVNO[$2]:-}" ]; then
        local no
        no=$(printf '%d:%d' "0x$(stat -c %t "$3")" "0x$(stat -c %T "$3")")
        [ "$no" = "${DEVNO[$2]}" ] || { fail "$1: $3 is device $no, was ${DEVNO[$2]}"; return; }
    fi
    ok "$1: still ${TYPE[$2]}"
}

# A FIFO's reader that is there before the program starts (cat would
# reach its open() at some point after being started): opens without
# blocking, says so, waits for the first bytes, then copies to the end.
cat > "$T/reader.py" << 'PY'
import os, select, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
open(sys.argv[3], "w").close()
p = select.poll()
p.register(fd, select.POLLIN)
p.poll()  # a FIFO reports no hang-up before its first writer
os.set_blocking(fd, True)
with open(sys.argv[2], "wb") as out:
    while True:
        b = os.read(fd, 1 << 16)
        if not b:
            break
        out.write(b)
PY

FLAGS=(--out --log --batch-log --curve --samples --confusion --logits)
KINDS=(new file link dangling fifo noreader dir socket null full block)
echo "== every output flag against every kind of target"
for flag in "${FLAGS[@]}"; do
    for kind in "${KINDS[@]}"; do
        case $kind in null | full | block) [ $MKNOD = 1 ] || continue ;; esac
        name="${flag#--} $kind"
        p="$T/t-${flag#--}-$kind"
        make "$kind" "$p"
        reader=
        if [ "$kind" = fifo ]; then
            rm -f "$T/ready"
            python3 "$T/reader.py" "$p" "$T/copy" "$T/ready" &
            reader=$!
            readers+=("$reader")
            for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.05; done
        fi
        run "$flag" "$p"
        msg=$(head -c 300 "$T/last.err")
        [ -n "${OUTPUTS_VERBOSE:-}" ] && [ -s "$T/last.err" ] && sed 's/^/    /' "$T/last.err"
        if [ -n "$reader" ]; then
            for _ in $(seq 50); do kill -0 "$reader" 2> /dev/null || break; sleep 0.1; done
            if kill -0 "$reader" 2> /dev/null; then
                kill "$reader"
                fail "$name: the FIFO's reader never saw the end of the stream"
            fi
            wait "$reader" 2> /dev/null
        fi
        if [ $rc -eq 124 ]; then
            fail "$name: hung (killed after 60 s)"
            continue
        fi
        case $kind in
        new | file | link | dangling | null | fifo) want=0 ;;
        noreader | full) want=1 ;;
        dir | socket | block) want=2 ;;
        esac
        if [ $rc -ne $want ]; then
            fail "$name: exit $rc, expected $want: $msg"
        else
            ok "$name: exit $rc"
        fi
        case $kind in
        new | file)
            expect_kind "$name" "$kind" "$p"
            looks_right "$flag" "$p"; check "$name: holds the output" $? ;;
        link | dangling)
            expect_kind "$name" "$kind" "$p"
            [ "$(readlink "$p")" = "real/$(basename "$p")" ]; check "$name: the link points where it did" $?
            t="$T/real/$(basename "$p")"
            [ -f "$t" ] && [ ! -L "$t" ]; check "$name: its target is a regular file" $?
            looks_right "$flag" "$t"; check "$name: the target holds the output" $?
            if [ "$flag" = --out ]; then
                [ -n "$(score "$p")" ] && [ "$(score "$p")" = "$(score "$t")" ]
                check "$name: vggeval scores the target, through the link too" $?
            fi ;;
        fifo)
            expect_kind "$name" "$kind" "$p"
            looks_right "$flag" "$T/copy"; check "$name: the reader got the output" $? ;;
        noreader)
            expect_kind "$name" "$kind" "$p"
            grep -qF -- "$flag: $p: no process is reading the FIFO" "$T/last.err"
            check "$name: says no one reads $p, naming $flag" $?
            [ ! -e "$T/side.bin" ] && ! grep -q '^images' "$T/last.out"
            check "$name: refused before any work" $? ;;
        dir | socket | block)
            expect_kind "$name" "$kind" "$p"
            grep -qF -- "$flag: $p: is a" "$T/last.err"; check "$name: names $flag and $p" $?
            [ ! -e "$T/side.bin" ] && ! grep -q '^images' "$T/last.out"
            check "$name: refused before any work" $?
            [ "$kind" != dir ] || [ -z "$(ls -A "$p")" ]; check "$name: nothing left inside" $? ;;
        null) expect_kind "$name" "$kind" "$p" ;;
        full)
            expect_kind "$name" "$kind" "$p"
            grep -q "No space left" "$T/last.err"; check "$name: says the device is full" $? ;;
        esac
    done
done

echo "== outputs that are inputs"
cp "$T/data/data_batch_1.bin" "$T/batch1.copy"
expect2() { # NAME TEXT CMD...: exit 2, message holding TEXT
    local name=$1 text=$2; shift 2
    timeout 60 "$@" > "$T/last.out" 2> "$T/last.err" < /dev/null
    rc=$?
    [ -n "${OUTPUTS_VERBOSE:-}" ] && sed 's/^/    /' "$T/last.err"
    if [ $rc -eq 2 ] && grep -qF -- "$text" "$T/last.err"; then ok "$name: exit 2"
    else fail "$name: exit $rc, expected 2 with '$text': $(head -c 300 "$T/last.err")"; fi
}
expect2 "--out a data file" "--out $T/data/data_batch_1.bin: is $T/data/data_batch_1.bin" \
    "$BIN/vggtrain" "${tiny[@]}" --out "$T/data/data_batch_1.bin"
cmp -s "$T/data/data_batch_1.bin" "$T/batch1.copy"; check "--out a data file: the data is unchanged" $?
ln -s data/test_batch.bin "$T/test-link"
expect2 "--log a link to a data file" "an input" \
    "$BIN/vggtrain" "${tiny[@]}" --out "$T/x.bin" --log "$T/test-link"
cp "$T/good.bin" "$T/resumed.bin"
expect2 "--curve the resumed checkpoint" "the checkpoint resumed" \
    "$BIN/vggtrain" --data "$T/data" --threads 1 --resume "$T/resumed.bin" --epochs 2 \
    --curve "$T/resumed.bin"
cmp -s "$T/good.bin" "$T/resumed.bin"; check "--curve the resumed checkpoint: the checkpoint is unchanged" $?
expect2 "--log and --curve one file" "name the same file" \
    "$BIN/vggtrain" "${tiny[@]}" --out "$T/x.bin" --log "$T/both" --curve "$T/both"
expect2 "vggeval --confusion the checkpoint" "the checkpoint scored" \
    "$BIN/vggeval" "$T/resumed.bin" --data "$T/data" --confusion "$T/resumed.bin"
"$BIN/vggtrain" --data "$T/data" --threads 1 --resume "$T/resumed.bin" --epochs 2 \
    --out "$T/resumed.bin" > /dev/null 2>&1
check "--out the resumed checkpoint: allowed" $?

echo "== inputs that are not regular files"
for kind in fifo zero null dir; do
    case $kind in zero | null) [ $MKNOD = 1 ] || continue ;; esac
    p="$T/in-$kind"
    make "$kind" "$p"
    for prog in vggeval resume; do
        if [ $prog = vggeval ]; then
            set -- "$BIN/vggeval" "$p" --data "$T/data"
        else
            set -- "$BIN/vggtrain" --data "$T/data" --threads 1 --resume "$p" --epochs 2 --out "$T/x.bin"
        fi
        SECONDS=0
        timeout 20 "$@" > "$T/last.out" 2> "$T/last.err" < /dev/null
        rc=$?
        [ -n "${OUTPUTS_VERBOSE:-}" ] && sed 's/^/    /' "$T/last.err"
        if [ $rc -eq 124 ]; then fail "$prog $kind: blocked reading $p"
        elif [ $rc -eq 1 ] && grep -qF "$p: not a regular file" "$T/last.err"; then
            ok "$prog $kind: exit 1 in ${SECONDS}s: $(head -1 "$T/last.err")"
        else fail "$prog $kind: exit $rc: $(head -c 300 "$T/last.err")"; fi
        expect_kind "$prog $kind" "$kind" "$p"
    done
done

echo "== --resume through a link"
mkdir -p "$T/run7"
cp "$T/good.bin" "$T/run7/model.bin"
ln -s run7/model.bin "$T/latest.bin"
"$BIN/vggtrain" --data "$T/data" --threads 1 --resume "$T/latest.bin" --epochs 2 > /dev/null 2> "$T/last.err"
check "--resume latest.bin: exit 0" $?
[ -L "$T/latest.bin" ] && [ "$(readlink "$T/latest.bin")" = run7/model.bin ]
check "--resume latest.bin: the link stays" $?
python3 -c 'import json, struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]
assert json.loads(b[8:8 + n])["__metadata__"]["epoch"] == "2"' "$T/run7/model.bin"
check "--resume latest.bin: run7/model.bin holds epoch 2" $?

echo "== permissions"
mkdir "$T/ro" && chmod 555 "$T/ro"
"$BIN/vggtrain" "${tiny[@]}" --out "$T/ro/m.bin" > /dev/null 2> "$T/last.err"
rc=$?
if [ "$(id -u)" = 0 ]; then
    skip "read-only folder: root writes in it anyway (access() and the kernel grant root write permission whatever the mode bits); exit $rc"
elif [ $rc -eq 1 ] && grep -qF "Permission denied" "$T/last.err"; then
    ok "read-only folder: exit 1: $(head -1 "$T/last.err")"
else
    fail "read-only folder: exit $rc: $(cat "$T/last.err")"
fi

left=$(find "$T" -name '.*.tmp-*' 2> /dev/null)
[ -z "$left" ]; check "no temporary file left behind${left:+: $left}" $?

echo
echo "cli_outputs: $passed checks passed, ${#failures[@]} failed, ${#skipped[@]} skipped"
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
for f in "${failures[@]}"; do echo "  FAILED: $f"; done
[ ${#failures[@]} -eq 0 ] || exit 1
[ $passed -gt 0 ] || exit 77
exit 0
