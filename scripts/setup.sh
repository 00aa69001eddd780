#!/usr/bin/env bash
# Installs everything Pitstop needs on a fresh Debian 12 machine: system packages for Tauri
# (WebKitGTK), the wasm toolchain (Debian's rustc-web + std sources, since rustup here cannot
# add wasm32), Xvfb/WebDriver/Chromium for end-to-end tests, wasm-bindgen-cli at the
# version Cargo.lock pins, and tauri-driver. Safe to run again: it skips what is already there.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PACKAGES=(
  build-essential pkg-config libssl-dev
  # Tauri 2 on Linux
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  # wasm32 build of the UI without rustup targets
  rustc-web cargo-web rust-web-src lld-22
  # windows without a screen, WebDriver, browser tests, screenshots
  xvfb webkit2gtk-driver chromium chromium-driver imagemagick
  # a private session bus in the tests, to see the app's system notifications
  dbus-daemon dbus-bin
  # a session keyring in the app tests (the desktop keeps the refresh token in the kernel keyring)
  keyutils
  # Chinese text in the windows and screenshots (names, and the zh-CN UI)
  fonts-wqy-microhei
  curl ca-certificates
  # scripts/check-android.sh: zig (from PyPI) as the C compiler for the Android type-check
  python3-venv
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# wasm32: a rustup target when rustup can get one (`rustup target add`); otherwise (rustup
# cannot download, as on some offline machines) Debian's rustc-web rebuilds std for wasm32
# (-Zbuild-std), see scripts/build-ui.sh.
if command -v rustup >/dev/null && ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  timeout 300 rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
fi
if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  log "wasm32 target: rustup"
elif [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
  log "wasm32 target: Debian rustc-web with -Zbuild-std"
else
  echo "no way to build wasm32: need rustup's wasm32 target or Debian's rustc-web + rust-web-src" >&2
  exit 1
fi

# axe-core (the accessibility rules the browser tests run on every view), pinned, from npm.
AXE_VERSION=4.10.3
if [ ! -f "$PITSTOP_TOOLS/axe-core-$AXE_VERSION/axe.min.js" ]; then
  log "fetching axe-core $AXE_VERSION"
  mkdir -p "$PITSTOP_TOOLS/axe-core-$AXE_VERSION"
  (cd "$PITSTOP_TOOLS" && npm pack -q "axe-core@$AXE_VERSION" >/dev/null &&
    tar -xzf "axe-core-$AXE_VERSION.tgz" -C "axe-core-$AXE_VERSION" --strip-components=1 package/axe.min.js &&
    rm -f "axe-core-$AXE_VERSION.tgz")
fi
ln -sfn "axe-core-$AXE_VERSION" "$PITSTOP_TOOLS/axe-core"

# wasm-bindgen-cli must match the wasm-bindgen crate exactly.
WBG_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3}' "$PITSTOP_ROOT/Cargo.lock")"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WBG_VERSION" ]; then
  log "installing wasm-bindgen-cli $WBG_VERSION"
  # Without --locked: its lockfile pins a crate version the registry mirror lacks.
  cargo install -q wasm-bindgen-cli --version "=$WBG_VERSION" --root "$PITSTOP_TOOLS"
fi
# tauri-driver bridges WebDriver to WebKitWebDriver for the desktop app's E2E tests.
TAURI_DRIVER_VERSION=2.1.0
if ! cargo install --list --root "$PITSTOP_TOOLS" | grep -q "^tauri-driver v$TAURI_DRIVER_VERSION:"; then
  log "installing tauri-driver $TAURI_DRIVER_VERSION"
  cargo install -q tauri-driver --version "=$TAURI_DRIVER_VERSION" --root "$PITSTOP_TOOLS"
fi
log "setup done"
