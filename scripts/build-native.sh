#!/usr/bin/env bash
# Builds libfeaturestore_jni.so, the native half of the Spark connector, so that it loads on glibc 2.17 and
# newer (Amazon Linux 2: EMR 6, Glue 4; a plain cargo build here would need glibc 2.34). cargo-zigbuild links
# against zig's glibc 2.17 stubs; both tools come from PyPI, pinned, in a venv under the repository.
#
#   scripts/build-native.sh --out DIR [--test-out DIR]
#
# --out DIR       puts the library at DIR/native/linux-x86_64/libfeaturestore_jni.so (the jar's resource layout)
# --test-out DIR  also builds the variant with the test-only exports (feature test-exports) into
#                 DIR/libfeaturestore_jni.so, for the connector's tests (loaded through java.library.path)
#
# This is a second compile of the engine, for the x86_64-unknown-linux-gnu target dir (target/x86_64-...);
# the Maven build calls it, and cargo's incremental build makes later calls cheap.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ZIGLANG_VERSION=0.15.2
CARGO_ZIGBUILD_VERSION=0.24.0
TARGET=x86_64-unknown-linux-gnu
GLIBC=2.17
OS_ARCH=linux-x86_64

out="" test_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --test-out) test_out="$2"; shift 2 ;;
    *) echo "usage: $0 --out DIR [--test-out DIR]" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "usage: $0 --out DIR [--test-out DIR]" >&2; exit 2; }

# The zig toolchain venv: separate from .venv (the test packages) so that either can change alone.
venv="$ROOT/.venv-zig"
want="ziglang==$ZIGLANG_VERSION cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$want" ]; then
  log "installing $want into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install -q --disable-pip-version-check $want
  echo "$want" >"$venv/.pins"
fi
export PATH="$venv/bin:$PATH"

if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  rustup target add "$TARGET"
fi

built="$ROOT/target/$TARGET/release/libfeaturestore_jni.so"
build() {
  log "cargo zigbuild --release -p featurestore-jni --target $TARGET.$GLIBC $*"
  (cd "$ROOT" && cargo zigbuild --release --locked -p featurestore-jni --target "$TARGET.$GLIBC" "$@")
}

# Copies the library without its DWARF line tables (100 MB -> 19 MB): panics still report file:line (compiled in)
# and backtraces still name functions (the symbol table stays).
install_stripped() {
  mkdir -p "$1"
  objcopy --strip-debug "$built" "$1/libfeaturestore_jni.so.tmp"
  mv "$1/libfeaturestore_jni.so.tmp" "$1/libfeaturestore_jni.so"
}

if [ -n "$test_out" ]; then
  build --features test-exports
  install_stripped "$test_out"
fi

# The jar's variant last, so that target/ holds it after the build.
build
install_stripped "$out/native/$OS_ARCH"

# Refuse a library that would not load on glibc 2.17.
highest="$(objdump -T "$out/native/$OS_ARCH/libfeaturestore_jni.so" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1)"
if [ "$(printf '%s\n' "$highest" "GLIBC_$GLIBC" | sort -V | tail -1)" != "GLIBC_$GLIBC" ]; then
  echo "libfeaturestore_jni.so needs $highest, above GLIBC_$GLIBC" >&2
  exit 1
fi
log "libfeaturestore_jni.so built ($(du -h "$out/native/$OS_ARCH/libfeaturestore_jni.so" | cut -f1), highest symbol version $highest)"
