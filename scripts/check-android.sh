#!/usr/bin/env bash
# Type-checks the whole app (Tauri, both plugins, the keyring, every #[cfg(mobile)] path) for
# Android on a machine without the Android NDK: rustup's aarch64-linux-android std, and zig's
# clang (from PyPI) as the C compiler for the build scripts (SQLite, ring). Nothing is linked,
# so this proves the Android code compiles; an APK needs the SDK (docs/mobile.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PITSTOP_ROOT"

TARGET=aarch64-linux-android
# A machine that cannot fetch the tools says so loudly and skips; a check that fails fails.
skip() { echo "WARNING: Android type-check skipped: $*" >&2; exit 0; }
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  log "adding the $TARGET standard library (rustup)"
  rustup target add "$TARGET" >/dev/null || skip "rustup could not add $TARGET"
fi
VENV="$PITSTOP_TOOLS/zig-venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import ziglang' 2>/dev/null; then
  log "installing zig 0.13 (ziglang from PyPI) as a cross C compiler"
  python3 -m venv "$VENV" || skip "python3 -m venv failed"
  "$VENV/bin/pip" install -q ziglang==0.13.0 || skip "pip could not install ziglang"
fi
WRAP="$PITSTOP_TOOLS/android-cc"
mkdir -p "$WRAP"
# cc-rs passes --target=aarch64-linux-android, which zig does not know: drop it and build
# against musl headers (enough to compile; nothing is linked).
cat > "$WRAP/cc" <<SH
#!/bin/bash
args=(); for a in "\$@"; do case "\$a" in --target=*) ;; *) args+=("\$a");; esac; done
exec "$VENV/bin/python" -m ziglang cc -target aarch64-linux-musl "\${args[@]}"
SH
cat > "$WRAP/ar" <<SH
#!/bin/bash
exec "$VENV/bin/python" -m ziglang ar "\$@"
SH
chmod +x "$WRAP/cc" "$WRAP/ar"

log "cargo check -p pitstop-app --target $TARGET"
CC_aarch64_linux_android="$WRAP/cc" AR_aarch64_linux_android="$WRAP/ar" \
  cargo check -q -p pitstop-app --target "$TARGET"
