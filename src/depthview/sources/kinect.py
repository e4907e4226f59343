"""A live Kinect v1 through libfreenect's asynchronous API: ``dv.open("kinect")``,
``"kinect:1"`` (device index) or ``"kinect:SERIAL"``.

One thread owns ``freenect_process_events_timeout``; the depth and video callbacks copy
libfreenect's buffers at once (they are reused) and the depth callback publishes a whole
``Frame`` into a latest-frame slot, so a slow consumer sees fresh frames, never a backlog.
A stream that goes quiet raises ``SourceTimeout`` after ``timeout`` seconds.
"""

from __future__ import annotations

import collections
import ctypes
import glob
import os
import re
import threading
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import NotMyFormat, SourceError, SourceTimeout, UnsupportedControl
from ..frame import (
    TILT_MAX_DEG,
    TILT_MIN_DEG,
    DepthFormat,
    Frame,
    LedMode,
    Record,
    Stamp,
    Stream,
    TiltState,
    VideoFormat,
)
from ..registration import Registration
from . import _libfreenect as lf
from .base import CAMERA_FLAGS, Source, check_options

OPTIONS = ("depth_format", "video_format", "video", "timeout")
UDEV_RULE = "/lib/udev/rules.d/60-libfreenect0.5.rules"
DEPTH_FORMATS = (
    DepthFormat.RAW_11BIT,
    DepthFormat.RAW_10BIT,
    DepthFormat.MM,
    DepthFormat.REGISTERED,
)
VIDEO_FORMATS = (VideoFormat.RGB, VideoFormat.IR_8BIT, VideoFormat.IR_10BIT)
#: Records a frame carries for a reader that has fallen behind (about 1 s at 30 frames/s).
MAX_PENDING_RECORDS = 96
#: What fakenect can replay without hitting an assert (it has no registration tables).
FAKENECT_DEPTH = (DepthFormat.RAW_11BIT,)
FAKENECT_VIDEO = (VideoFormat.RGB,)


#: libusb's error codes that say why a device did not open (libfreenect 0.6+ returns them;
#: 0.5 returns -1 and logs them).
LIBUSB_ERRORS = {"LIBUSB_ERROR_ACCESS": -3, "LIBUSB_ERROR_NO_DEVICE": -4, "LIBUSB_ERROR_BUSY": -6}
_CODE_AT_END = re.compile(r":\s*(-\d+)\s*$")


def _denied_node() -> str | None:
    """A Kinect's USB device node this user may not open, from sysfs, or None."""
    for vendor in glob.glob("/sys/bus/usb/devices/*/idVendor"):
        folder = os.path.dirname(vendor)
        try:
            with open(vendor) as fv, open(os.path.join(folder, "idProduct")) as fp:
                ids = (fv.read().strip(), fp.read().strip())
            if ids[0] == "045e" and ids[1] in ("02ae", "02bf", "02b0", "02ad"):
                with (
                    open(os.path.join(folder, "busnum")) as fb,
                    open(os.path.join(folder, "devnum")) as fd,
                ):
                    node = f"/dev/bus/usb/{int(fb.read()):03d}/{int(fd.read()):03d}"
                if os.path.exists(node) and not os.access(node, os.R_OK | os.W_OK):
                    return node
        except (OSError, ValueError):
            continue
    return None


def libusb_error(rc: int, messages: list[str]) -> int | None:
    """The libusb error behind a failed open: the return code, else the last one libfreenect
    logged (by name, ``LIBUSB_ERROR_BUSY``, or as a number ending the line, ``: -3``)."""
    if rc < -1:
        return rc
    for message in reversed(messages):
        for name, code in LIBUSB_ERRORS.items():
            if name in message:
                return code
        match = _CODE_AT_END.search(message)
        if match:
            return int(match[1])
    return None


def _usb_hint(rc: int = -1, messages: list[str] | None = None) -> str:
    """Why opening failed, from what libfreenect said, else from the device node's rights."""
    said = f" (libfreenect: {messages[-1]})" if messages else ""
    code = libusb_error(rc, messages or [])
    node = _denied_node() if code is None else None
    if code == LIBUSB_ERRORS["LIBUSB_ERROR_ACCESS"] or node is not None:
        return (
            f"permission denied on {node or 'its USB device'}: install the udev rule "
            f"{UDEV_RULE} (package libfreenect0.5) and replug, or add yourself to the plugdev "
            f"group{said}"
        )
    if code == LIBUSB_ERRORS["LIBUSB_ERROR_BUSY"]:
        return f"the Kinect is busy: close the other program using it (e.g. freenect-glview){said}"
    if code == LIBUSB_ERRORS["LIBUSB_ERROR_NO_DEVICE"]:
        return f"the Kinect went away while opening: replug it{said}"
    return (
        f"libfreenect could not open it{said or f' (error {rc})'}; replug it, and close any "
        "other program using it"
    )


class KinectSource(Source):
    """Depth (and video) from a live Kinect, or from fakenect when the library is fakenect."""

    fps = 30.0

    def __init__(
        self,
        device: int | str = 0,
        *,
        depth_format: DepthFormat | str | int = DepthFormat.RAW_11BIT,
        video_format: VideoFormat | str | int = VideoFormat.RGB,
        video: bool = True,
        timeout: float = 3.0,
    ) -> None:
        self.lib = lf.load()
        lf.check_fakenect_env(self.lib)
        self.timeout = float(timeout)
        self._ctx = ctypes.c_void_p()
        self._dev = ctypes.c_void_p()
        self._lock = threading.RLock()  # libfreenect calls: event thread vs controls
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._ended = False
        self._error: SourceError | None = None
        self._stop = threading.Event()
        self._log: collections.deque[str] = collections.deque(maxlen=16)
        self._log_cb = lf.LogCallback(self._on_log)
        self._video: npt.NDArray[Any] | None = None
        self._video_stamp: Stamp | None = None
        self._accel_stamp: Stamp | None = None
        self._pending: list[Record] = []  # records since the last frame read
        self.records_dropped = 0
        self._count = self._video_seq = self._accel_seq = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        self.serial: str | None = None
        self.registration: Registration | None = None  # the device's own (None in fakenect)
        try:
            self.depth_format = DepthFormat.parse(depth_format)
            self.video_format = (
                VideoFormat[video_format.upper()]
                if isinstance(video_format, str)
                else VideoFormat(video_format)
            )
        except (ValueError, KeyError) as exc:
            raise SourceError(f"expected a depth/video format, got {exc}") from None
        self._check_formats(self.depth_format, self.video_format)
        self._note_units()
        f = self.lib.fn
        if f("freenect_init")(ctypes.byref(self._ctx), None) < 0:
            raise SourceError(f"{self.lib.path}: freenect_init failed; is USB available?")
        try:
            if self.lib.has("freenect_set_log_callback"):
                # libfreenect's errors come to us, not to stderr: they go into our messages.
                f("freenect_set_log_callback")(self._ctx, self._log_cb)
                f("freenect_set_log_level")(self._ctx, lf.LOG_ERROR)
            elif self.lib.has("freenect_set_log_level"):
                f("freenect_set_log_level")(self._ctx, lf.LOG_FATAL)  # we report errors
            if self.lib.has("freenect_select_subdevices"):
                f("freenect_select_subdevices")(self._ctx, lf.DEVICE_MOTOR | lf.DEVICE_CAMERA)
            self._open_device(device)
            self.registration = lf.copy_registration(self.lib, self._dev)
            self._note_units()
            self._depth_cb = lf.FrameCallback(self._on_depth)
            self._video_cb = lf.FrameCallback(self._on_video)
            f("freenect_set_depth_callback")(self._dev, self._depth_cb)
            self._set_depth_mode(self.depth_format)
            f("freenect_start_depth")(self._dev)
            self.want_video = bool(video) and self.lib.has("freenect_set_video_mode")
            self.has_video = self.want_video
            if self.want_video:
                self.video_formats = FAKENECT_VIDEO if self.lib.is_fakenect else VIDEO_FORMATS
                f("freenect_set_video_callback")(self._dev, self._video_cb)
                self._set_video_mode(self.video_format)
                f("freenect_start_video")(self._dev)
        except BaseException:
            self._teardown()
            raise
        self._thread = threading.Thread(target=self._run, name="depthview-kinect", daemon=True)
        self._thread.start()

    # -- opening --------------------------------------------------------------------------
    def _open_device(self, device: int | str) -> None:
        f = self.lib.fn
        count = int(f("freenect_num_devices")(self._ctx))
        check_found(device, count, [])  # a serial: libfreenect's open says
        if isinstance(device, int):
            rc = f("freenect_open_device")(self._ctx, ctypes.byref(self._dev), device)
            self.index: int | None = device
            self.serial = self._serials()[device] if device < len(self._serials()) else None
        else:
            opener = f("freenect_open_device_by_camera_serial")
            if opener is None:
                raise UnsupportedControl(
                    f"{self.lib.path} cannot open a Kinect by serial; use kinect:INDEX"
                )
            rc = opener(self._ctx, ctypes.byref(self._dev), device.encode())
            self.index, self.serial = None, device
        if rc < 0 or not self._dev.value:
            where = f"kinect:{device}"
            hint = _usb_hint(int(rc), list(self._log))
            if isinstance(device, str):
                raise SourceError(f"{where}: no Kinect with that serial (or {hint})")
            raise SourceError(f"{where}: cannot open: {hint}")
        label = f"kinect:{self.index if self.index is not None else self.serial}"
        self.name = label + (f" ({self.serial})" if self.serial and self.index is not None else "")

    def _note_units(self) -> None:
        intrinsics = "Kinect v1 defaults (not read from the device)"
        if self.registration is not None:
            self.intrinsics = self.registration.depth_intrinsics()
            intrinsics = "from the device's registration parameters"
        self.units_note = (
            f"{self.depth_format.unit_name} (from the device); intrinsics: {intrinsics}"
        )

    def _serials(self) -> list[str]:
        return list_serials(self.lib, self._ctx)

    def _check_formats(self, depth: DepthFormat, video: VideoFormat) -> None:
        if depth not in DEPTH_FORMATS:
            raise UnsupportedControl(
                f"expected a depth format of {[d.name for d in DEPTH_FORMATS]}, got {depth.name}"
            )
        if video not in VIDEO_FORMATS:
            raise UnsupportedControl(
                f"expected a video format of {[v.name for v in VIDEO_FORMATS]}, got {video.name}"
            )
        if self.lib.is_fakenect and (depth not in FAKENECT_DEPTH or video not in FAKENECT_VIDEO):
            raise UnsupportedControl(
                f"{self.lib.path} (fakenect) replays only 11-bit depth and RGB video, "
                f"got {depth.name}/{video.name}"
            )

    def _set_depth_mode(self, fmt: DepthFormat) -> None:
        f = self.lib.fn
        mode = f("freenect_find_depth_mode")(lf.RESOLUTION_MEDIUM, int(fmt))
        if not mode.is_valid or f("freenect_set_depth_mode")(self._dev, mode) < 0:
            raise UnsupportedControl(f"{self.name}: cannot set depth format {fmt.name}")
        self._depth_mode = lf.FrameMode.from_buffer_copy(mode)

    def _set_video_mode(self, fmt: VideoFormat) -> None:
        f = self.lib.fn
        mode = f("freenect_find_video_mode")(lf.RESOLUTION_MEDIUM, int(fmt))
        if not mode.is_valid or f("freenect_set_video_mode")(self._dev, mode) < 0:
            raise UnsupportedControl(f"{self.name}: cannot set video format {fmt.name}")
        self._video_mode = lf.FrameMode.from_buffer_copy(mode)

    # -- the event thread -----------------------------------------------------------------
    def _run(self) -> None:
        tv = lf.Timeval(0, 20_000)
        process = self.lib.fn("freenect_process_events_timeout")
        while not self._stop.is_set():
            with self._lock:
                rc = process(self._ctx, ctypes.byref(tv))
            if rc < 0:
                with self._cond:
                    if self.lib.is_fakenect:
                        self._ended = True  # FAKENECT_LOOP=0: the recording is over
                    else:
                        said = f" (libfreenect: {self._log[-1]})" if self._log else ""
                        self._error = SourceError(
                            f"{self.name}: the Kinect stopped after {self._count} frames: "
                            f"unplugged, or its power failed{said}"
                        )
                    self._cond.notify_all()
                return
            if self.lib.is_fakenect:
                time.sleep(0)  # let readers in; fakenect sleeps inside process_events

    def _copy(self, data: int, mode: lf.FrameMode, video: bool) -> npt.NDArray[Any]:
        h, w = int(mode.height), int(mode.width)
        if not video or self.video_format is VideoFormat.IR_10BIT:
            out = np.empty((h, w), dtype=np.uint16)
        elif self.video_format is VideoFormat.IR_8BIT:
            out = np.empty((h, w), dtype=np.uint8)
        else:
            out = np.empty((h, w, 3), dtype=np.uint8)
        ctypes.memmove(out.ctypes.data, data, min(out.nbytes, int(mode.bytes)))
        return out

    def _on_log(self, ctx: int, level: int, message: bytes | None) -> None:
        try:
            text = (message or b"").decode(errors="replace").strip()
            if text:
                self._log.append(text)
        except Exception:  # never let an exception unwind into C
            pass

    def _on_video(self, dev: int, data: int, timestamp: int) -> None:
        try:
            video = self._copy(data, self._video_mode, True)
            stamp = Stamp(self._video_seq, time.time(), int(timestamp))
            self._video_seq += 1
            with self._cond:
                self._video, self._video_stamp = video, stamp
                self._pending.append(Record(Stream.VIDEO, stamp, video, self.video_format))
        except Exception as exc:  # never let an exception unwind into C
            self._error = SourceError(f"{self.name}: video callback failed: {exc}")

    def _on_depth(self, dev: int, data: int, timestamp: int) -> None:
        try:
            now = time.time()
            depth = self._copy(data, self._depth_mode, False)
            stamp = Stamp(self._count, now, int(timestamp))
            state = self._tilt()
            with self._cond:
                if state is not None:
                    self._accel_stamp = Stamp(self._accel_seq, now, int(timestamp))
                    self._accel_seq += 1
                    self._pending.append(Record(Stream.ACCEL, self._accel_stamp, state))
                self._pending.append(Record(Stream.DEPTH, stamp, depth, self.depth_format))
                # Frames the reader has not taken yet are replaced, but their records are
                # carried forward (up to a bound), so a writer still gets every record once.
                records = self._pending[-MAX_PENDING_RECORDS:]
                self.records_dropped += len(self._pending) - len(records)
                self._latest = Frame(
                    depth=depth,
                    video=self._video,
                    depth_format=self.depth_format,
                    video_format=self.video_format if self._video is not None else None,
                    timestamp=now,
                    index=self._count,
                    accel=None if state is None else state.accel_mks,
                    tilt_deg=None if state is None else state.tilt_deg,
                    device_timestamp=int(timestamp),
                    video_stamp=self._video_stamp if self._video is not None else None,
                    accel_stamp=None if state is None else self._accel_stamp,
                    records=tuple(records),
                )
                self._pending = records
                self._count += 1
                self._cond.notify_all()
        except Exception as exc:
            self._error = SourceError(f"{self.name}: depth callback failed: {exc}")

    def _tilt(self) -> TiltState | None:
        """The motor's raw tilt state, freshly polled, or None when the library has none."""
        f = self.lib.fn
        if not self.lib.has("freenect_get_tilt_state"):
            return None
        if self.lib.has("freenect_update_tilt_state"):
            f("freenect_update_tilt_state")(self._dev)
        raw = f("freenect_get_tilt_state")(self._dev)
        if not raw:
            return None
        c = raw.contents
        return TiltState(
            int(c.accelerometer_x),
            int(c.accelerometer_y),
            int(c.accelerometer_z),
            int(c.tilt_angle),
            int(c.tilt_status),
        )

    # -- Source ---------------------------------------------------------------------------
    def read(self) -> Frame:
        if self._closed:
            raise SourceError(f"{self.name}: read after close")
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while self._latest is None:
                if self._error is not None:
                    raise self._error
                if self._ended:
                    raise StopIteration
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SourceTimeout(
                        f"{self.name}: expected a frame within {self.timeout:g} s, got none "
                        "(unplugged, or the stream stopped)"
                    )
                self._cond.wait(min(left, 0.1))
            frame, self._latest = self._latest, None
            # The frame's records start the pending list; what arrived after it stays.
            self._pending = self._pending[len(frame.records) :]
        return frame

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._teardown()

    def _teardown(self) -> None:
        f = self.lib.fn
        with self._lock:
            if self._dev.value:
                if not self._ended:  # fakenect's stop calls are harmless; real ones need a dev
                    f("freenect_stop_depth")(self._dev)
                    if getattr(self, "want_video", False):
                        f("freenect_stop_video")(self._dev)
                f("freenect_close_device")(self._dev)
                self._dev = ctypes.c_void_p()
            if self._ctx.value:
                f("freenect_shutdown")(self._ctx)
                self._ctx = ctypes.c_void_p()

    # -- controls -------------------------------------------------------------------------
    def _call(self, name: str, what: str, *args: Any) -> int:
        fn = self.lib.fn(name)
        if fn is None:
            raise UnsupportedControl(f"{self.name}: {self.lib.path} has no {name}, cannot {what}")
        with self._lock:
            rc = int(fn(self._dev, *args))
        if rc < 0:
            raise SourceError(f"{self.name}: {name} failed ({rc}), cannot {what}")
        return rc

    def set_tilt(self, degrees: float) -> None:
        self._call(
            "freenect_set_tilt_degs", "tilt", float(min(TILT_MAX_DEG, max(TILT_MIN_DEG, degrees)))
        )

    def set_led(self, mode: LedMode) -> None:
        self._call("freenect_set_led", "set the LED", int(LedMode(mode)))

    def set_flag(self, flag: str, on: bool) -> None:
        if flag not in CAMERA_FLAGS:
            raise ValueError(f"expected a flag of {CAMERA_FLAGS}, got {flag!r}")
        self._call("freenect_set_flag", f"set {flag}", lf.FLAGS[flag], 1 if on else 0)

    def set_ir_brightness(self, value: int) -> None:
        self._call(
            "freenect_set_ir_brightness", "change IR brightness", int(min(50, max(1, value)))
        )

    def get_ir_brightness(self) -> int:
        return self._call("freenect_get_ir_brightness", "read IR brightness")

    def set_depth_format(self, fmt: DepthFormat) -> None:
        fmt = DepthFormat.parse(fmt)
        self._check_formats(fmt, self.video_format)
        with self._lock:
            self.lib.fn("freenect_stop_depth")(self._dev)
            self._set_depth_mode(fmt)
            self.depth_format = fmt
            self._note_units()
            self.lib.fn("freenect_start_depth")(self._dev)

    def set_video_format(self, fmt: VideoFormat) -> None:
        if not self.want_video:
            raise UnsupportedControl(f"{self.name}: video was not started")
        fmt = self._check_video_format(fmt)
        with self._lock:
            self.lib.fn("freenect_stop_video")(self._dev)
            self._video = None
            self.video_format = fmt
            self._set_video_mode(fmt)
            self.lib.fn("freenect_start_video")(self._dev)


def list_serials(lib: lf.Library, ctx: ctypes.c_void_p) -> list[str]:
    """Camera serials of the Kinects found, or [] when the library cannot list them."""
    lister = lib.fn("freenect_list_device_attributes")
    if lister is None:
        return []
    head = ctypes.POINTER(lf.DeviceAttributes)()
    if lister(ctx, ctypes.byref(head)) < 0:
        return []
    out: list[str] = []
    node = head
    while node:
        raw = node.contents.camera_serial
        out.append(raw.decode(errors="replace") if raw else "")
        node = node.contents.next
    if lib.has("freenect_free_device_attributes"):
        lib.fn("freenect_free_device_attributes")(head)
    return out


def probe() -> dict[str, Any]:
    """Kinects found: ``{"library", "count", "serials"}`` (for ``depthview info``)."""
    lib = lf.load()
    lf.check_fakenect_env(lib)
    ctx = ctypes.c_void_p()
    if lib.fn("freenect_init")(ctypes.byref(ctx), None) < 0:
        raise SourceError(f"{lib.path}: freenect_init failed; is USB available?")
    try:
        if lib.has("freenect_set_log_level"):
            lib.fn("freenect_set_log_level")(ctx, 0)
        count = int(lib.fn("freenect_num_devices")(ctx))
        serials = list_serials(lib, ctx)
    finally:
        lib.fn("freenect_shutdown")(ctx)
    return {"library": lib.path, "fakenect": lib.is_fakenect, "count": count, "serials": serials}


def check_found(device: int | str, count: int, serials: list[str]) -> None:
    """``SourceError`` unless the Kinect ``device`` (an index, or a serial: checked when
    ``serials`` lists them) is among the ``count`` found: opening one and ``info`` about one
    say alike that it is not there."""
    if count <= 0:
        raise SourceError(
            "no Kinect found: plug it in (USB and its own power supply), "
            "then check `lsusb | grep 045e`"
        )
    if isinstance(device, int) and not 0 <= device < count:
        raise SourceError(f"kinect:{device}: expected a device index 0..{count - 1}, got {device}")
    if isinstance(device, str) and serials and device not in serials:
        raise SourceError(
            f"kinect:{device}: no Kinect with that serial; found {', '.join(serials)}"
        )


def parse_uri(uri: str) -> int | str:
    """``"kinect"`` -> 0, ``"kinect:1"`` -> 1, ``"kinect:A00361..."`` -> the serial."""
    if uri == "kinect":
        return 0
    if not uri.startswith("kinect:") or len(uri) == len("kinect:"):
        raise NotMyFormat(f"{uri}: expected 'kinect', 'kinect:INDEX' or 'kinect:SERIAL'")
    rest = uri[len("kinect:") :]
    return int(rest) if rest.isdigit() and len(rest) <= 3 else rest


def open_source(uri: str, **options: Any) -> KinectSource:
    """Open a live Kinect; ``NotMyFormat`` for anything not starting with ``kinect``."""
    device = parse_uri(uri)
    # A live device always delivers at its own pace: "as fast as possible" (realtime=False,
    # as export asks of every source) is what it does anyway.
    options.pop("realtime", None)
    check_options(uri, options, OPTIONS)
    return KinectSource(device, **options)
