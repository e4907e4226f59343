"""Headless Chromium (Debian's package) driven over the DevTools protocol on loopback: open a
page, wait for it to draw, take a screenshot. Every host name but 127.0.0.1 resolves to
nothing, so the page cannot reach outside the machine."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    # WebGL in software (SwiftShader), since there is no GPU.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--window-size=1024,640",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


def chromium() -> str:
    found = shutil.which("chromium")
    assert found, "Debian's chromium is missing: bash scripts/bootstrap.sh installs it"
    return found


async def _shoot(
    ws_url: str, url: str, out: Path, seconds: float, ready: Callable[[Path], bool]
) -> float:
    import websockets

    async with websockets.connect(ws_url, max_size=None) as ws:
        ids = iter(range(1, 1_000_000))

        async def call(method: str, **params: object) -> dict[str, Any]:
            my = next(ids)
            await ws.send(json.dumps({"id": my, "method": method, "params": params}))
            while True:
                msg = json.loads(await ws.recv())
                if msg.get("id") == my:
                    return msg  # type: ignore[no-any-return]

        start = time.monotonic()
        await call("Page.navigate", url=url)
        while True:
            await asyncio.sleep(5.0)
            shot = await call("Page.captureScreenshot", format="png")
            out.write_bytes(base64.b64decode(shot["result"]["data"]))
            if ready(out) or time.monotonic() - start > seconds:
                return time.monotonic() - start


def screenshot(
    url: str, out: Path, profile: Path, seconds: float, ready: Callable[[Path], bool]
) -> float:
    """Open ``url`` and save a PNG of it to ``out`` every few seconds until ``ready(out)`` or
    ``seconds`` have passed; returns the seconds it took."""
    profile.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert time.monotonic() < deadline and proc.poll() is None, "chromium did not start"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10) as resp:
            targets = json.load(resp)
        page = next(t for t in targets if t["type"] == "page")
        return asyncio.run(_shoot(page["webSocketDebuggerUrl"], url, out, seconds, ready))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
