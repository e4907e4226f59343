#!/usr/bin/env bash
# Remake the README's screenshots as the X server shows them (after `make test` has set up
# .venv): each viewer runs freely in a real X window under Xvfb (Mesa's OpenGL), is paused,
# and its window is read back from the X server (tests/_helpers_xcapture.py, XGetImage).
# The shipped sample recording, the demo, and the demo's 3D point cloud beside its video.
set -euo pipefail
cd "$(dirname "$0")/.."
display=:$((100 + RANDOM % 400))
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb' EXIT
sleep 1
export DISPLAY=$display SDL_VIDEODRIVER=x11

shot() {  # shot OUT.png SOURCE [view options...]: run, wait, pause, capture, quit
    local out=$1 source=$2
    shift 2
    .venv/bin/depthview view "$source" "$@" &
    local viewer=$!
    .venv/bin/python - "$source" "$out" <<'PY'
import sys, time
sys.path.insert(0, "tests")
from _helpers_xcapture import capture_stable, find_window, park_pointer, press_key
from PIL import Image
window = find_window(f"depthview - {sys.argv[1]}")
park_pointer()
time.sleep(3.0)  # let it run
press_key(window, "space")  # pause on this frame
Image.fromarray(capture_stable(window)).save(sys.argv[2])
press_key(window, "q")
PY
    wait "$viewer"
}

shot docs/screenshot.png sample --palette turbo --near 0.5 --far 3.0
shot docs/demo.png demo
shot docs/3d.png demo --layout 3d-video --orbit 25,-10
