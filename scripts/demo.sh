#!/usr/bin/env bash
# Sets up and runs the demo: the platform with a seeded city and simulated technicians on
# http://127.0.0.1:8080, plus the desktop app when a display is available.
#
#   ./scripts/demo.sh                      # sign-in screen (codes print here) or a demo account
#   ./scripts/demo.sh --role technician    # or desk / owner; --name NAME to pick the account
#   PITSTOP_NO_APP=1 ./scripts/demo.sh     # platform only
# Other arguments go to pitstop-platform (see `pitstop-platform --help`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PITSTOP_ROOT"

ADDR="${PITSTOP_ADDR:-127.0.0.1:8080}"
DB="${PITSTOP_DB:-$PITSTOP_CACHE/demo.db}"
ROLE=""
NAME=""
PLATFORM_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --role) ROLE="$2"; shift 2 ;;
    --name) NAME="$2"; shift 2 ;;
    *) PLATFORM_ARGS+=("$1"); shift ;;
  esac
done

"$PITSTOP_ROOT/scripts/setup.sh"
log "building the UI (the app's and the browser tracking page)"
"$PITSTOP_ROOT/scripts/build-ui.sh"
log "building the platform (the first time takes several minutes)"
cargo build -q --release -p pitstop-platform
PLATFORM="$CARGO_TARGET_DIR/release/pitstop-platform"

APP=""
if [ -n "${DISPLAY:-}" ] && [ "${PITSTOP_NO_APP:-0}" != 1 ]; then
  log "building the desktop app (the first time takes several minutes)"
  cargo build -q -p pitstop-app
  APP="$CARGO_TARGET_DIR/debug/pitstop-app"
fi

log "starting the platform in demo mode on http://$ADDR (database $DB)"
# The simulation's chatter goes to a file so the links and codes printed here stay in view.
LOG="$PITSTOP_CACHE/demo-platform.log"
echo "platform log: $LOG (RUST_LOG=info to see it here)"
if [ -z "${RUST_LOG:-}" ]; then
  export PITSTOP_LOG_FILE="$LOG"
fi
"$PLATFORM" --demo --addr "$ADDR" --db "$DB" --ui-dir "$PITSTOP_ROOT/ui/dist" "${PLATFORM_ARGS[@]}" &
PLATFORM_PID=$!
trap 'kill $PLATFORM_PID 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 50); do curl -sf "http://$ADDR/healthz" >/dev/null && break; sleep 0.2; done

if [ -n "$APP" ]; then
  APP_ARGS=(--platform "http://$ADDR")
  case "$ROLE" in
    technician) APP_ARGS+=(--role technician --name "${NAME:-you-the-master}") ;;
    desk)       APP_ARGS+=(--role desk --name "${NAME:-front-desk}" --workshop 1) ;;
    # Not owner-01..20: those are the simulation's customers, who book on their own.
    owner)      APP_ARGS+=(--role owner --name "${NAME:-you-the-owner}") ;;
    "")         ;;
    *) echo "unknown role $ROLE: technician, desk or owner" >&2; exit 2 ;;
  esac
  log "opening the desktop app ${ROLE:+as $ROLE}"
  [ -z "$ROLE" ] && echo "Sign in with any mobile number (+86 138 0013 8000): the code appears in this terminal ([dev code sink]); or open a demo account below the form."
  # The demo app keeps its data (caches, the last account) apart from a real install's.
  XDG_DATA_HOME="$PITSTOP_CACHE/demo-app" "$APP" "${APP_ARGS[@]}" &
else
  echo
  echo "No display (DISPLAY is unset), so the desktop app is not opened."
  echo "Use a browser instead:"
  echo "  live tracking:  the platform prints 'demo: watch a master arrive in a browser: <link>'"
  echo "                  as soon as a simulated job is under way"
  echo "  owner view:     http://$ADDR/app/?role=owner&name=you-the-owner"
  echo "  front desk:     http://$ADDR/app/?role=desk&name=front-desk&workshop=1"
  echo "Or watch dispatch with curl, using the admin token printed above:"
  echo "  curl -s -H 'Authorization: Bearer <admin token>' 'http://$ADDR/v1/orders?limit=5'"
  echo "  curl -N -H 'Authorization: Bearer <admin token>' http://$ADDR/v1/events"
fi
wait $PLATFORM_PID
