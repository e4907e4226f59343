#!/usr/bin/env bash
# Set up a fresh machine for depthview, for one of two purposes:
#   bootstrap.sh run    what running needs: libfreenect (a live Kinect) and a .venv with
#                       depthview and its runtime extras
#   bootstrap.sh test   also what the checks need: the tools the tests drive for real
#                       (fakenect, Xvfb, ...) and the dev extra (pytest, mypy, ruff, ...)
# Debian packages are installed with apt-get when run as root; otherwise it names them.
# Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

purpose=${1:-test}
case "$purpose" in
    run)
        DEB_PACKAGES=(libfreenect0.5)
        EXTRAS="video,png,fast,3d"
        ;;
    test)
        DEB_PACKAGES=(libfreenect0.5 libfreenect-bin xvfb xauth)
        # libfreenect's own registration.c, compiled as the oracle (tests/oracle).
        DEB_PACKAGES+=(gcc libc6-dev libusb-1.0-0-dev)
        # The 3D view under Xvfb: Mesa's software OpenGL (llvmpipe) through GLX and EGL.
        DEB_PACKAGES+=(libgl1-mesa-dri libegl1 libegl-mesa0)
        # The rerun-web test opens the served page in headless Chromium (software WebGL).
        DEB_PACKAGES+=(chromium)
        EXTRAS="dev"
        ;;
    *)
        echo "bootstrap: expected 'run' or 'test', got '$purpose'" >&2
        exit 2
        ;;
esac

missing=()
if ! command -v dpkg-query >/dev/null; then
    echo "bootstrap: not Debian/Ubuntu: install libfreenect (e.g. brew install libfreenect)" \
        "and, for the tests, Xvfb yourself" >&2
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

# Registration tests: Debian's libfreenect source (apt deb-src) into .cache/, gitignored.
if [ "$purpose" = test ] && ((${#DEB_PACKAGES[@]})); then
    bash scripts/libfreenect_source.sh >/dev/null
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
stamp=.venv/.depthview-$purpose
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
    touch "$stamp"
fi
