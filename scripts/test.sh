#!/usr/bin/env bash
# The one command that sets up and runs every check: formatting, lints, the wasm UI build,
# the desktop app build, and all tests (unit, integration against a real platform on
# 127.0.0.1, end to end). CI runs exactly this.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PITSTOP_ROOT"

"$PITSTOP_ROOT/scripts/setup.sh"

log "cargo fmt --check"
cargo fmt --all --check

log "building the UI (wasm32)"
"$PITSTOP_ROOT/scripts/build-ui.sh"

log "cargo clippy (host crates and the app shell)"
cargo clippy -q --workspace --exclude pitstop-ui --all-targets -- -D warnings

log "building the desktop app"
cargo build -q -p pitstop-app

log "cargo test"
# Fewer accept races in CI keeps it quick; PITSTOP_RACE_RUNS=500 for a soak.
export PITSTOP_RACE_RUNS="${PITSTOP_RACE_RUNS:-40}"
cargo test --workspace --exclude pitstop-ui --exclude pitstop-app
