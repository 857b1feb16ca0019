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

# The emulator that runs the target's programs (ctest, try_run). It takes
# the arm64 multiarch loader and libc (libc6:arm64, /lib/aarch64-linux-gnu)
# beside the libraries, not the cross compiler's copy: with
# `-L /usr/aarch64-linux-gnu` (its glibc 2.36-8) under qemu 7.2 the first
# pthread_create never returns, so OpenMP and OpenBLAS's threads hang.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
