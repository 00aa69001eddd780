#!/usr/bin/env bash
# Sets up and runs the demo: the platform with a seeded city and simulated technicians on
# http://127.0.0.1:8080, plus the desktop app when a display is available.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PITSTOP_ROOT"

ADDR="${PITSTOP_ADDR:-127.0.0.1:8080}"
DB="${PITSTOP_DB:-$PITSTOP_CACHE/demo.db}"

"$PITSTOP_ROOT/scripts/setup.sh"
log "building the platform"
cargo build -q --release -p pitstop-platform
PLATFORM="$CARGO_TARGET_DIR/release/pitstop-platform"

APP=""
if [ -n "${DISPLAY:-}" ] && [ "${PITSTOP_NO_APP:-0}" != 1 ]; then
  log "building the UI and the desktop app"
  "$PITSTOP_ROOT/scripts/build-ui.sh"
  cargo build -q -p pitstop-app
  APP="$CARGO_TARGET_DIR/debug/pitstop-app"
fi

log "starting the platform in demo mode on http://$ADDR (database $DB)"
"$PLATFORM" --demo --addr "$ADDR" --db "$DB" "$@" &
PLATFORM_PID=$!
trap 'kill $PLATFORM_PID 2>/dev/null || true' EXIT INT TERM

if [ -n "$APP" ]; then
  sleep 1
  log "opening the desktop app"
  "$APP" &
else
  echo
  echo "No display (DISPLAY is unset), so the desktop app is not opened."
  echo "Watch dispatch with curl instead, using the admin token printed above:"
  echo "  curl -s -H 'Authorization: Bearer <admin token>' 'http://$ADDR/v1/orders?limit=5'"
  echo "  curl -N -H 'Authorization: Bearer <admin token>' http://$ADDR/v1/events"
fi
wait $PLATFORM_PID
