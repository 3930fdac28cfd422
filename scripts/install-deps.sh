#!/usr/bin/env bash
# Installs what building, running and testing Sightline needs on Debian / Ubuntu, and only
# what is missing: Debian packages (as root, or through sudo), the UI's npm packages, and
# tauri-driver for the GUI tests. Used by `make run`, `make test` and .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Build: Tauri 2 on WebKitGTK 4.1. Tests: sqlite3 (bench), python3 (agentgen, GUI tests),
# Xvfb + WebKitWebDriver (GUI tests), imagemagick (screenshots), xdotool (GUI tests: native
# menu, file chooser, drag and drop), python3-gi + gir1.2-gtk-3.0 (GUI tests: the drag source),
# prometheus (promtool: the reference for rule unit tests and PromQL results), python3-jeepney
# and dbus-daemon (the private session bus and notification recorder of the alert tests).
APT_PACKAGES="pkg-config libssl-dev build-essential sqlite3 python3 curl
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  xvfb xauth webkit2gtk-driver dbus-x11 imagemagick
  xdotool python3-gi gir1.2-gtk-3.0 prometheus python3-jeepney dbus-daemon python3-venv"

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
fi
if command -v apt-get >/dev/null; then
    missing=()
    for p in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$SUDO" = none ]; then
            echo "missing Debian packages (run as root or with sudo): ${missing[*]}" >&2
            exit 1
        fi
        echo "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        for attempt in 1 2 3; do
            $SUDO apt-get update && break
            [ "$attempt" = 3 ] && exit 1
            sleep 5
        done
        $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
    fi
fi

# The official OpenTelemetry protobuf classes, from PyPI into a venv: the OTLP receiver tests
# encode their protobuf requests with them (an encoder we did not write).
PROTO_VENV="${SIGHTLINE_PROTO_VENV:-$HOME/.cache/sightline-venv}"
if ! "$PROTO_VENV/bin/python" -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' 2>/dev/null; then
    python3 -m venv "$PROTO_VENV"
    "$PROTO_VENV/bin/pip" install --quiet --disable-pip-version-check 'opentelemetry-proto>=1.27,<2' 'protobuf>=5'
fi

# The UI's packages, exactly as locked.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    (cd ui && npm ci --no-audit --no-fund)
fi

# tauri-driver (WebDriver bridge for the GUI tests), pinned to Tauri 2.
if [ "${SKIP_TAURI_DRIVER:-0}" != 1 ] && ! command -v tauri-driver >/dev/null; then
    cargo install tauri-driver --locked --version '^2'
fi
