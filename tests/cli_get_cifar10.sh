#!/bin/bash
# scripts/get-cifar10 without a network: a tarball with the wrong MD5 is
# refused before anything is unpacked, a failed download says what to do
# offline, a missing tarball is named, and a complete folder is left alone.
set -u
SRC=${VGG_SOURCE_DIR:?}
S=$SRC/scripts/get-cifar10
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_get_cifar10.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$S" --help | grep -q "TARBALL" || fail "--help"

# A fake tarball with the right layout but not the published bytes.
mkdir -p "$T/fake/cifar-10-batches-bin"
echo junk >"$T/fake/cifar-10-batches-bin/data_batch_1.bin"
tar -czf "$T/fake.tar.gz" -C "$T/fake" cifar-10-batches-bin
if "$S" --dir "$T/data" "$T/fake.tar.gz" >"$T/out" 2>"$T/err"; then
  fail "wrong MD5 accepted"
fi
cat "$T/err"
grep -q "$T/fake.tar.gz: MD5 is" "$T/err" || fail "message names the tarball and MD5"
grep -q "expected c32a1d4ab5d03f1284b67883e8d87530" "$T/err" || fail "expected MD5 shown"
[ ! -e "$T/data/cifar-10-batches-bin" ] || fail "unpacked despite the wrong MD5"
[ -f "$T/fake.tar.gz" ] || fail "the user's tarball was deleted"

# A tarball that is not there.
"$S" --dir "$T/data" "$T/nothing.tar.gz" 2>"$T/err" && fail "missing tarball accepted"
grep -q "$T/nothing.tar.gz: no such file" "$T/err" || fail "missing tarball named"

# A download that fails (file:// URL to nowhere): offline instructions.
if command -v curl >/dev/null; then
  VGG_CIFAR_NO_LOCAL=1 VGG_CIFAR_URL=file:///nonexistent/cifar-10-binary.tar.gz \
    "$S" --dir "$T/data2" >"$T/out" 2>"$T/err" && fail "failed download accepted"
  cat "$T/err"
  grep -q "cannot download" "$T/err" || fail "download failure reported"
  grep -q "scripts/get-cifar10 PATH/TO/cifar-10-binary.tar.gz" "$T/err" ||
    fail "offline instructions"
  [ ! -e "$T/data2/cifar-10-binary.tar.gz.part" ] || fail "partial download left"
fi

# --local: the make-bin of $VGG_SHARED_DIR runs, with the output folder.
mkdir -p "$T/shared/cifar10"
printf '#!/bin/sh\nmkdir -p "$1" && echo made >"$1/marker"\n' >"$T/shared/cifar10/make-bin"
chmod +x "$T/shared/cifar10/make-bin"
VGG_SHARED_DIR=$T/shared "$S" --local --dir "$T/data4" 2>"$T/err" || fail "--local with VGG_SHARED_DIR"
grep -q made "$T/data4/cifar-10-batches-bin/marker" || fail "--local: make-bin not run on DIR/cifar-10-batches-bin"
grep -q "$T/shared/cifar10/make-bin" "$T/err" || fail "--local: the copy used is not named"
# --local with no local copy anywhere: a copy of the script outside any
# checkout fails and says where it looked.
mkdir -p "$T/lone/r/scripts"
cp "$S" "$T/lone/r/scripts/get-cifar10"
if VGG_SHARED_DIR= "$T/lone/r/scripts/get-cifar10" --local --dir "$T/data5" 2>"$T/err"; then
  fail "--local without a local copy accepted"
fi
grep -q "VGG_SHARED_DIR" "$T/err" || fail "--local failure says where it looked"

# A complete folder (sparse files of the right sizes) is left alone.
d=$T/data3/cifar-10-batches-bin
mkdir -p "$d"
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
  truncate -s 30730000 "$d/$f.bin"
done
printf 'airplane\n' >"$d/batches.meta.txt"
"$S" --dir "$T/data3" "$T/fake.tar.gz" | grep -q "already holds" || fail "complete folder"
# an incomplete one is reported, not overwritten
rm "$d/test_batch.bin"
"$S" --dir "$T/data3" "$T/fake.tar.gz" 2>"$T/err" && fail "incomplete folder accepted"
grep -q "incomplete" "$T/err" || fail "incomplete folder reported"
echo "ok"
