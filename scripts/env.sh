# Shared settings for Pitstop's scripts; sourced, not run.
# Build outputs live outside the clone so CI and fresh clones reuse them.
PITSTOP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PITSTOP_CACHE="${PITSTOP_CACHE:-$HOME/.cache/pitstop}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PITSTOP_CACHE/target}"
# The wasm build uses Debian's rustc-web, a different compiler: it gets its own target dir.
export PITSTOP_WASM_TARGET_DIR="${PITSTOP_WASM_TARGET_DIR:-$PITSTOP_CACHE/wasm-target}"
export PITSTOP_TOOLS="$PITSTOP_CACHE/tools"
export PATH="$PITSTOP_TOOLS/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log() { printf '\n==> %s\n' "$*" >&2; }
