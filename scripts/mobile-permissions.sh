#!/usr/bin/env bash
# Adds Pitstop's Android permissions to the project `cargo tauri android init` generated
# (gen/android). Run once after init, on a machine with the Android SDK. Idempotent.
#   location while in use and in the background (technicians on shift), a foreground
#   service for background tracking, notifications (Android 13+), network.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANIFEST="$ROOT/gen/android/app/src/main/AndroidManifest.xml"
[ -f "$MANIFEST" ] || { echo "no $MANIFEST: run 'cargo tauri android init' first" >&2; exit 1; }
for p in INTERNET ACCESS_COARSE_LOCATION ACCESS_FINE_LOCATION ACCESS_BACKGROUND_LOCATION \
         FOREGROUND_SERVICE FOREGROUND_SERVICE_LOCATION POST_NOTIFICATIONS; do
  grep -q "android.permission.$p\"" "$MANIFEST" ||
    sed -i "s|<application|<uses-permission android:name=\"android.permission.$p\" />\n    <application|" "$MANIFEST"
done
echo "permissions in $MANIFEST:"
grep -o 'android.permission.[A-Z_]*' "$MANIFEST" | sort -u
