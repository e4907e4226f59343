#!/usr/bin/env bash
# Remake the README's screenshots in a real X window under Xvfb (after `make test` has set up .venv):
# the shipped sample recording, the demo, and the demo's 3D point cloud beside its video.
set -euo pipefail
cd "$(dirname "$0")/.."
display=:$((100 + RANDOM % 400))
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb' EXIT
sleep 1
export DISPLAY=$display SDL_VIDEODRIVER=x11
.venv/bin/depthview view sample --frames 45 --palette turbo --near 0.5 --far 3.0 \
    --screenshot docs/screenshot.png
.venv/bin/depthview view demo --frames 45 --screenshot docs/demo.png
.venv/bin/depthview view demo --frames 45 --layout 3d-video --orbit 35,-20 \
    --screenshot docs/3d.png
