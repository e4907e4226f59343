#!/usr/bin/env bash
# Set up a fresh machine for depthview: the Debian packages its tests drive for real
# (libfreenect and its fakenect replay library, Xvfb for real-window screenshots) and a
# .venv with depthview installed in editable mode. Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(libfreenect0.5 libfreenect-bin xvfb xauth)
# The rerun-web test opens the served page in headless Chromium (software WebGL).
DEB_PACKAGES+=(chromium)
missing=()
if ! command -v dpkg-query >/dev/null; then
    echo "bootstrap: not Debian/Ubuntu: install libfreenect (e.g. brew install libfreenect)" \
        "and Xvfb yourself; the tests that drive them need them" >&2
    DEB_PACKAGES=()
fi
for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bootstrap: installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null  # with recommends: Xvfb wants its fonts
    else
        echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
        echo "bootstrap: install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            PYTHON=$candidate
            break
        fi
    done
fi
[ -n "$PYTHON" ] || { echo "bootstrap: depthview needs Python 3.11 or newer" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.depthview-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    touch "$stamp"
fi
