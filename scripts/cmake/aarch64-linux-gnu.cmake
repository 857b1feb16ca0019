# Cross-compiling for aarch64 Linux with Debian's gcc-aarch64-linux-gnu and
# the arm64 multiarch libraries (scripts/install-deps). ctest runs the test
# programs under qemu-user; scripts/cross-aarch64 drives it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

# Headers and libraries come from the multiarch folders of the target;
# programs (cmake, pkg-config) from the host.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")

# The emulator that runs the target's programs (ctest, try_run): the
# dynamic loader and libc are in /usr/aarch64-linux-gnu, the multiarch
# libraries in /usr/lib/aarch64-linux-gnu.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
