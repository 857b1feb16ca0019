#!/bin/bash
# The installed library: `cmake --install` into a temporary prefix puts
# libvgg.a, libvgg.so, the public headers, vgg.pc and the CMake package
# there (and no internal header); examples/classify.c, built in a folder of
# its own against that prefix with pkg-config and with find_package (shared
# and static), classifies PNG pictures with the same top classes and
# probabilities as `vggeval MODEL IMAGE.png`.
set -u
BIN=${VGG_BIN_DIR:?}
SRC=${VGG_SOURCE_DIR:?}
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
command -v pkg-config >/dev/null || { echo "no pkg-config: skipped"; exit 77; }
command -v cc >/dev/null || { echo "no C compiler: skipped"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/cli_install.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

P="$T/prefix"
cmake --install "$BIN" --prefix "$P" > "$T/install.log" ||
    { cat "$T/install.log"; fail "cmake --install"; }
for f in lib/libvgg.a lib/libvgg.so include/vgg/vgg.h include/vgg/status.h \
         include/vgg/predict.h lib/pkgconfig/vgg.pc lib/cmake/vgg/vggConfig.cmake; do
    [ -e "$P/$f" ] || fail "not installed: $f"
done
# Only the public headers: the model's layout and the kernels stay inside.
extra=$(ls "$P/include/vgg" | grep -v -x -e vgg.h -e status.h -e predict.h)
[ -z "$extra" ] || fail "internal headers installed: $extra"
# ... and the shared library exports only the public functions.
bad=$(nm -D --defined-only "$P/lib/libvgg.so" | awk '{print $3}' |
      grep -v -x -E 'vgg_(classifier_[a-z_]+|top_k|fail|status_to_string|set_thread_count|version)' |
      grep -v '^_' || true)
[ -z "$bad" ] || fail "libvgg.so exports internal symbols: $bad"

# A tiny model and four pictures of its test set.
python3 "$SRC/tests/synth_cifar.py" "$T/data" 3 20 8 || fail "synthetic data"
"$BIN/vggtrain" --data "$T/data" --arch "8 M 16 M" --classes 3 --threads 1 \
    --batch-size 10 --epochs 1 --out "$T/m.bin" > "$T/train.log" ||
    { cat "$T/train.log"; fail "training"; }
python3 - "$T/data/test_batch.bin" "$T" <<'PY' || fail "writing PNGs"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
for i in range(4):
    rec = data[i * 3073 + 1:(i + 1) * 3073]
    rows = b"".join(b"\0" + bytes(v for x in range(32) for v in
                    (rec[y * 32 + x], rec[1024 + y * 32 + x], rec[2048 + y * 32 + x]))
                    for y in range(32))
    chunk = lambda t, d: (struct.pack(">I", len(d)) + t + d +
                          struct.pack(">I", zlib.crc32(t + d)))
    png = (b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    open("%s/img%d.png" % (sys.argv[2], i), "wb").write(png)
PY

# Built outside the source tree, against the prefix only. A sanitizer
# build's library (scripts/sanitize) needs its programs built so too.
san=
grep -q '^VGG_SANITIZE:BOOL=ON' "$BIN/CMakeCache.txt" 2>/dev/null &&
    san="-fsanitize=address,undefined"
mkdir "$T/ex" && cp "$SRC/examples/classify.c" "$SRC/examples/CMakeLists.txt" "$T/ex/"
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror $san "$T/ex/classify.c" $(pkg-config --cflags --libs vgg) \
    -Wl,-rpath,"$P/lib" -o "$T/classify-pc" || fail "cc with pkg-config"
cc -std=c11 -Wall -Wextra -Werror $san "$T/ex/classify.c" $(pkg-config --cflags vgg) \
    "$P/lib/libvgg.a" $(pkg-config --libs --static vgg | sed 's/-lvgg\b//') \
    -o "$T/classify-pc-static" || fail "cc with pkg-config --static"
for kind in shared static; do
    static=OFF; [ $kind = static ] && static=ON
    cmake -S "$T/ex" -B "$T/ex-build-$kind" -DCMAKE_PREFIX_PATH="$P" \
        -DVGG_STATIC=$static -DCMAKE_C_FLAGS="$san" \
        -DCMAKE_EXE_LINKER_FLAGS="$san" > "$T/cmake.log" 2>&1 &&
    cmake --build "$T/ex-build-$kind" > "$T/cmake.log" 2>&1 ||
        { cat "$T/cmake.log"; fail "find_package(vgg) build ($kind)"; }
    cp "$T/ex-build-$kind/classify" "$T/classify-cmake-$kind"
done
ldd "$T/classify-pc" | grep -q "$P/lib/libvgg.so" || fail "classify-pc does not use the installed libvgg.so"
ldd "$T/classify-cmake-shared" | grep -q "$P/lib/libvgg.so" ||
    fail "the find_package build does not use the installed libvgg.so"
! ldd "$T/classify-cmake-static" | grep -q libvgg || fail "the static build links libvgg.so"

export OMP_NUM_THREADS=1
for i in 0 1 2 3; do
    "$BIN/vggeval" "$T/m.bin" "$T/img$i.png" --threads 1 > "$T/want.txt" ||
        fail "vggeval on img$i.png"
    for exe in classify-pc classify-pc-static classify-cmake-shared classify-cmake-static; do
        "$T/$exe" "$T/m.bin" "$T/img$i.png" > "$T/got.txt" || fail "$exe on img$i.png"
        cmp -s "$T/want.txt" "$T/got.txt" ||
            fail "$exe: '$(cat "$T/got.txt")', vggeval: '$(cat "$T/want.txt")'"
    done
    cat "$T/got.txt"
done

# Errors name the file; usage is exit 2.
"$T/classify-pc" "$T/missing.bin" "$T/img0.png" 2> "$T/err.txt" && fail "a missing model"
grep -q "missing.bin" "$T/err.txt" || fail "no file name in: $(cat "$T/err.txt")"
"$T/classify-pc" "$T/m.bin" "$T/m.bin" 2> "$T/err.txt" && fail "a checkpoint as picture"
grep -q "m.bin" "$T/err.txt" || fail "no file name in: $(cat "$T/err.txt")"
"$T/classify-pc" 2>/dev/null; [ $? = 2 ] || fail "usage exit status"
echo "PASS"
