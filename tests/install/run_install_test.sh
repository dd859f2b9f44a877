#!/usr/bin/env bash
# @file run_install_test.sh
# @brief Installs the build tree to a temporary prefix and builds and runs out-of-tree
# consumers of it: with find_package(bordertrack CONFIG) (shared and static targets),
# with pkg-config (shared), and with pkg-config --static (the static library).
# Registered with ctest as package_install (label "install").
#
# Usage: run_install_test.sh BUILD_DIR CONSUMER_SRC LIBDIR INCLUDEDIR VERSION CC [FLAGS]
#   LIBDIR, INCLUDEDIR: CMAKE_INSTALL_LIBDIR / INCLUDEDIR (relative), VERSION: x.y.z,
#   FLAGS: extra compile and link flags (the sanitizer build passes -fsanitize=...).
set -euo pipefail

build=$1 consumer=$2 libdir=$3 incdir=$4 version=$5 cc=$6 flags=${7:-}
expect="bordertrack $version: 2 incidents within 10 km"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bt-install.XXXXXX")
trap '[[ -n ${BT_KEEP_TMP:-} ]] || rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# Runs a consumer on a new store and checks its one line of output.
check_run() {
    local exe=$1 name=$2 out
    out=$("$exe" "$tmp/$name.db") || fail "$name exited with $?"
    [[ $out == "$expect" ]] || fail "$name printed '$out', expected '$expect'"
    echo "$name: $out"
}

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" ||
    { cat "$tmp/install.log"; fail "cmake --install"; }

for f in "$incdir/bordertrack.h" "$libdir/libbordertrack.a" "$libdir/libbordertrack.so" \
         "$libdir/libbordertrack.so.$version" \
         "$libdir/cmake/bordertrack/bordertrackConfig.cmake" \
         "$libdir/cmake/bordertrack/bordertrackConfigVersion.cmake" \
         "$libdir/cmake/bordertrack/bordertrackTargets.cmake" \
         "$libdir/pkgconfig/bordertrack.pc"; do
    [[ -e $prefix/$f ]] || fail "not installed: $f"
done
# The SONAME carries the ABI number, and the .so link points at it.
soname=$(objdump -p "$prefix/$libdir/libbordertrack.so" | awk '$1 == "SONAME" {print $2}')
[[ $soname == libbordertrack.so.[0-9]* ]] || fail "unexpected SONAME '$soname'"
[[ -e $prefix/$libdir/$soname ]] || fail "$soname not installed"
# The .pc names the prefix installed to, not the configure-time one.
grep -qx "prefix=$prefix" "$prefix/$libdir/pkgconfig/bordertrack.pc" ||
    fail "bordertrack.pc does not say prefix=$prefix"

export LD_LIBRARY_PATH=$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

step "CMake consumer: find_package(bordertrack CONFIG REQUIRED)"
cmake -S "$consumer" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" > "$tmp/cfg.log" 2>&1 ||
    { cat "$tmp/cfg.log"; fail "configuring the CMake consumer"; }
cmake --build "$tmp/cmake-build" > "$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log"; fail "building the CMake consumer"; }
check_run "$tmp/cmake-build/consumer_shared" cmake_shared
check_run "$tmp/cmake-build/consumer_static" cmake_static
# (ldd output is captured first: `ldd | grep -q` fails under pipefail when grep exits
# early and ldd gets SIGPIPE.)
deps=$(ldd "$tmp/cmake-build/consumer_shared")
[[ $deps == *"$prefix/$libdir/$soname"* ]] ||
    fail "consumer_shared does not use the installed $soname: $deps"
deps=$(ldd "$tmp/cmake-build/consumer_static")
[[ $deps != *libbordertrack* ]] || fail "consumer_static links libbordertrack dynamically"

# Before 1.0 a minor version is incompatible (SameMinorVersion): asking for the next
# minor must fail, asking for this major.minor must work.
IFS=. read -r major minor _ <<< "$version"
step "find_package(bordertrack $major.$((minor + 1))) must fail"
if cmake -S "$consumer" -B "$tmp/cmake-next" -DCMAKE_PREFIX_PATH="$prefix" \
        -DBT_REQUEST_VERSION="$major.$((minor + 1))" > "$tmp/next.log" 2>&1; then
    fail "find_package accepted version $major.$((minor + 1))"
fi
grep -q "compatible with requested version" "$tmp/next.log" || { cat "$tmp/next.log"; fail "unexpected failure"; }
step "find_package(bordertrack $major.$minor) must work"
cmake -S "$consumer" -B "$tmp/cmake-same" -DCMAKE_PREFIX_PATH="$prefix" \
      -DBT_REQUEST_VERSION="$major.$minor" > "$tmp/same.log" 2>&1 ||
    { cat "$tmp/same.log"; fail "find_package rejected $major.$minor"; }

export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pcver=$(pkg-config --modversion bordertrack)
[[ $pcver == "$version" ]] || fail "pkg-config --modversion says $pcver"

step "pkg-config consumer: cc \$(pkg-config --cflags --libs bordertrack)"
# shellcheck disable=SC2046,SC2086
"$cc" $flags -o "$tmp/pc_shared" "$consumer/main.c" $(pkg-config --cflags --libs bordertrack)
check_run "$tmp/pc_shared" pc_shared

step "pkg-config --static consumer: libbordertrack.a with Requires.private/Libs.private"
# -l:libbordertrack.a picks the archive even though the .so sits beside it; everything
# else comes from pkg-config, so a missing private dependency fails the link.
pc_cflags=$(pkg-config --cflags bordertrack)
libs=$(pkg-config --static --libs bordertrack)
libs=${libs/-lbordertrack/-l:libbordertrack.a}
# shellcheck disable=SC2086
if ! "$cc" $flags -o "$tmp/pc_static" "$consumer/main.c" $pc_cflags $libs \
        2> "$tmp/static.log"; then
    # `pkg-config --static` walks the private dependencies of the dependencies too, and
    # on Debian 12 those cannot all be linked (libgeos-dev ships no libgeos.so for
    # geos.pc's -lgeos; libcurl.pc names -lldap -llber without libldap-dev). Then link
    # the archive against its direct dependencies only: our Requires.private modules
    # and our Libs.private, which is what this test is about.
    grep -q "cannot find -l" "$tmp/static.log" || { cat "$tmp/static.log"; fail "static link"; }
    echo "full static closure not linkable here:" \
         $(grep -o "cannot find -l[^:]*" "$tmp/static.log" | sed 's/cannot find //' | sort -u)
    echo "linking libbordertrack.a against its direct dependencies instead"
    requires=$(pkg-config --print-requires-private bordertrack | awk '{print $1}')
    own_private=$(sed -n 's/^Libs.private: *//p' "$prefix/$libdir/pkgconfig/bordertrack.pc")
    [[ -n $requires ]] || fail "bordertrack.pc has no Requires.private"
    # shellcheck disable=SC2046,SC2086
    "$cc" $flags -o "$tmp/pc_static" "$consumer/main.c" $pc_cflags \
        -L"$prefix/$libdir" -l:libbordertrack.a $(pkg-config --libs $requires) $own_private ||
        fail "linking libbordertrack.a with its Requires.private and Libs.private"
fi
check_run "$tmp/pc_static" pc_static
deps=$(ldd "$tmp/pc_static")
[[ $deps != *libbordertrack* ]] || fail "pc_static links libbordertrack dynamically"

echo "package_install: all consumers OK"
