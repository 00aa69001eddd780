#!/usr/bin/env bash
# Builds the Yew UI to wasm32 and bundles it into ui/dist (what tauri.conf.json serves and
# what the platform can serve to browsers).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PITSTOP_ROOT"

PROFILE="${PITSTOP_UI_PROFILE:-release}"
# PITSTOP_UI_TOOLCHAIN=debian takes the fallback route even where rustup has the target.
if [ "${PITSTOP_UI_TOOLCHAIN:-}" != debian ] && command -v rustup >/dev/null &&
  rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  CARGO_TARGET_DIR="$PITSTOP_WASM_TARGET_DIR" cargo build -q --profile "$PROFILE" \
    --target wasm32-unknown-unknown -p pitstop-ui
else
  # Debian's rustc-web (1.96) rebuilds std for wasm32; RUSTC_BOOTSTRAP unlocks -Zbuild-std.
  # Debian names the wasm linker after LLVM's version (package lld-22), not rust-lld.
  LINKER=/usr/bin/rust-lld
  [ -x "$LINKER" ] || LINKER="$(ls /usr/bin/wasm-ld-* 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$LINKER" ]; then
    echo "no wasm linker: install Debian's lld-22 (./scripts/setup.sh does)" >&2
    exit 1
  fi
  CARGO_TARGET_DIR="$PITSTOP_WASM_TARGET_DIR" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$LINKER" \
    /usr/bin/cargo build -q --profile "$PROFILE" -Zbuild-std=std,panic_abort \
    --target wasm32-unknown-unknown -p pitstop-ui
fi
WASM="$PITSTOP_WASM_TARGET_DIR/wasm32-unknown-unknown/$PROFILE/pitstop-ui.wasm"
rm -rf ui/dist && mkdir -p ui/dist
# Function names (a fifth of the bundle) only help a debugger; browsers download the rest.
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir ui/dist --out-name pitstop-ui "$WASM"
cp ui/index.html ui/boot.js ui/style.css ui/dist/
log "UI built: $(du -h ui/dist/pitstop-ui_bg.wasm | cut -f1) of wasm ($(gzip -9 -c ui/dist/pitstop-ui_bg.wasm | wc -c) bytes gzipped) in ui/dist"
