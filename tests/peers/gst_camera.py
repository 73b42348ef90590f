#!/usr/bin/python3
"""A camera nobody here wrote: GStreamer's RTSP server (GstRtspServer) on a loopback port,
serving test video the way camera firmware does, for Vigil to be tested against.

Run by Debian's Python, which has GStreamer's bindings (`python3-gi`,
`gir1.2-gst-rtsp-server-1.0`); it imports nothing of Vigil's nor of its virtual environment.

    /usr/bin/python3 tests/peers/gst_camera.py --port 0 \
        --mount '{"path": "/h264", "codec": "h264", "profile": "main"}' \
        --mount '{"path": "/h265", "codec": "h265", "in_band_only": true}'

Each `--mount` is a JSON object (keys below, in `Mount`). Every client gets a pipeline of
its own (unless the mount is `shared`), so a client that comes back finds the camera's
timestamps started again. Once listening it prints one line,
`{"ready": true, "port": N, "urls": [...]}`, and serves until SIGTERM or SIGINT. SIGUSR1
drops every client at once, as a camera that restarts its streaming does.
"""

import argparse
import itertools
import json
import signal
import sys
from dataclasses import dataclass, fields
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

USER_ROLE = "user"


@dataclass
class Mount:
    """One stream of the camera, as `--mount` gives it."""

    path: str
    codec: str = "h264"  # h264 (x264enc), h265 (x265enc), jpeg (MJPEG, rtpjpegpay)
    profile: str = "main"  # H.264: baseline, main or high (a caps filter on x264enc)
    width: int = 640
    height: int = 360
    fps: int = 25
    gop: int = 25  # frames from one keyframe to the next
    bframes: int = 0
    slices: int = 1  # slices per picture
    sei: bool = False  # SEI units (x264's HRD buffering period and picture timing) in band
    aud: bool = False  # an access unit delimiter before each picture
    in_band_only: bool = False  # no parameter sets in the SDP; only before each keyframe
    audio: bool = False  # an AAC track (16 kHz mono) beside the video
    video: bool = True  # False: the sound alone
    auth: bool = False  # needs the server's user (--auth, which guards every mount): else 401
    transports: str = "tcp+udp"  # which lower transports SETUP accepts: tcp, udp or tcp+udp
    fixed_rtp_start: bool = False  # RTP times and sequence numbers start at 0 on each session
    bitrate_kbps: int = 1000
    preset: str = "veryfast"  # the encoder's speed preset (a bench's big stream: ultrafast)
    # One pipeline for every client, as a camera's one encoder (benches: many clients of a
    # big stream); the default gives each client its own, timestamps starting anew.
    shared: bool = False

    @classmethod
    def parse(cls, text: str) -> "Mount":
        given = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = set(given) - known
        if unknown:
            raise SystemExit(f"unknown mount keys: {', '.join(sorted(unknown))}")
        mount = cls(**given)
        if not mount.path.startswith("/"):
            raise SystemExit(f"a mount path starts with '/': {mount.path!r}")
        return mount


def _element(factory: str, name: str | None = None, **properties: Any) -> Gst.Element:
    element = Gst.ElementFactory.make(factory, name)
    if element is None:
        raise RuntimeError(f"GStreamer has no element {factory!r} (a plugin package missing?)")
    for key, value in properties.items():
        element.set_property(key.replace("_", "-"), value)
    return element


def _caps_filter(caps: str) -> Gst.Element:
    return _element("capsfilter", caps=Gst.Caps.from_string(caps))


def _chain(bin_: Gst.Bin, elements: list[Gst.Element]) -> None:
    for element in elements:
        bin_.add(element)
    for upstream, downstream in itertools.pairwise(elements):
        if not upstream.link(downstream):
            raise RuntimeError(f"cannot link {upstream.get_name()} to {downstream.get_name()}")


def _payloader(name: str, elements: list[Gst.Element]) -> Gst.Bin:
    """A bin named `name` (pay0, pay1: how the RTSP server finds its streams) whose `src`
    pad is the last of `elements`."""
    payloader = Gst.Bin.new(name)
    _chain(payloader, elements)
    pad = elements[-1].get_static_pad("src")
    payloader.add_pad(Gst.GhostPad.new("src", pad))
    sink = elements[0].get_static_pad("sink")
    payloader.add_pad(Gst.GhostPad.new("sink", sink))
    return payloader


def _video_encoder(mount: Mount) -> list[Gst.Element]:
    if mount.codec == "h264":
        options = ["scenecut=0"] + ([f"slices={mount.slices}"] if mount.slices > 1 else [])
        if mount.sei:
            # HRD signalling: a buffering period SEI on each keyframe and a picture timing
            # SEI on each picture (x264 also writes its own user data SEI on the first).
            options += ["nal-hrd=vbr", "vbv-maxrate=2000", "vbv-bufsize=2000"]
        encoder = _element(
            "x264enc",
            speed_preset=mount.preset,
            key_int_max=mount.gop,
            bframes=mount.bframes,
            b_adapt=False,
            aud=mount.aud,
            threads=1,
            bitrate=mount.bitrate_kbps,
            option_string=":".join(options),
        )
        caps = f"video/x-h264,profile={mount.profile},stream-format=byte-stream"
        return [encoder, _caps_filter(caps), _element("h264parse")]
    if mount.codec == "h265":
        options = [
            f"bframes={mount.bframes}",
            "b-adapt=0",
            "open-gop=0",
            "scenecut=0",
            "frame-threads=1",
            "pools=1",
            "repeat-headers=1",
        ]
        if mount.slices > 1:
            options.append(f"slices={mount.slices}")
        if mount.sei:
            options += ["hrd=1", "vbv-maxrate=2000", "vbv-bufsize=2000"]
        if mount.aud:
            options.append("aud=1")
        encoder = _element(
            "x265enc",
            speed_preset="ultrafast",
            key_int_max=mount.gop,
            bitrate=mount.bitrate_kbps,
            option_string=":".join(options),
        )
        caps = "video/x-h265,stream-format=byte-stream"
        return [encoder, _caps_filter(caps), _element("h265parse")]
    if mount.codec == "jpeg":
        return [_element("jpegenc", quality=60)]
    raise SystemExit(f"unknown codec {mount.codec!r}")


def _video_payloader(mount: Mount) -> Gst.Bin:
    offsets = {"timestamp_offset": 0, "seqnum_offset": 0} if mount.fixed_rtp_start else {}
    if mount.codec == "jpeg":
        return _payloader("pay0", [_element("rtpjpegpay", pt=26, **offsets)])
    factory = "rtph264pay" if mount.codec == "h264" else "rtph265pay"
    payloader = _element(factory, pt=96, config_interval=-1, **offsets)
    elements = [payloader]
    if mount.in_band_only:
        # The SDP is made from the payloader's caps, which carry the parameter sets it saw
        # (sprop-…); caps set anew without them leave the stream's own as the only ones.
        encoding = "H264" if mount.codec == "h264" else "H265"
        extra = ",packetization-mode=(string)1" if mount.codec == "h264" else ""
        caps = (
            f"application/x-rtp,media=(string)video,clock-rate=(int)90000,"
            f"encoding-name=(string){encoding},payload=(int)96{extra}"
        )
        elements.append(_element("capssetter", replace=True, caps=Gst.Caps.from_string(caps)))
    return _payloader("pay0", elements)


def _audio_elements(name: str) -> list[Gst.Element]:
    encoder = "avenc_aac" if Gst.ElementFactory.find("avenc_aac") else "voaacenc"
    return [
        _element("audiotestsrc", is_live=True, wave="sine", freq=440.0, volume=0.3),
        _element("audioconvert"),
        _element("audioresample"),
        _caps_filter("audio/x-raw,rate=16000,channels=1"),
        _element(encoder),
        _element("aacparse"),
        _payloader(name, [_element("rtpmp4gpay", pt=97)]),
    ]


class CameraFactory(GstRtspServer.RTSPMediaFactory):
    """A mount's pipelines: a new one for every client, unless the mount is `shared`."""

    def __init__(self, mount: Mount) -> None:
        super().__init__()
        self.mount = mount
        self.set_shared(mount.shared)
        lower = GstRtsp.RTSPLowerTrans(0)
        if "tcp" in mount.transports:
            lower |= GstRtsp.RTSPLowerTrans.TCP
        if "udp" in mount.transports:
            lower |= GstRtsp.RTSPLowerTrans.UDP
        self.set_protocols(lower)
        self.add_role_from_structure(
            Gst.Structure.from_string(
                f"{USER_ROLE}, media.factory.access=(boolean)true,"
                " media.factory.construct=(boolean)true"
            )[0]
        )

    def do_create_element(self, url: GstRtsp.RTSPUrl) -> Gst.Element:
        mount = self.mount
        top = Gst.Bin.new(None)
        if mount.video:
            source = _element("videotestsrc", is_live=True, pattern="smpte", horizontal_speed=4)
            raw = _caps_filter(
                f"video/x-raw,format=I420,width={mount.width},height={mount.height},"
                f"framerate={mount.fps}/1"
            )
            _chain(top, [source, raw, *_video_encoder(mount), _video_payloader(mount)])
        if mount.audio or not mount.video:
            _chain(top, _audio_elements("pay1" if mount.video else "pay0"))
        return top


def _auth(method: str, user: str, password: str) -> GstRtspServer.RTSPAuth:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", USER_ROLE)
    if method == "digest":
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.add_digest(user, password, token)
    else:
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    # No default token: a client that has not logged in is asked to (401 and a challenge), as
    # cameras do, rather than told the stream is not there.
    return auth


def _drop_clients(server: GstRtspServer.RTSPServer) -> bool:
    def remove(*_: Any) -> GstRtspServer.RTSPFilterResult:
        return GstRtspServer.RTSPFilterResult.REMOVE

    server.client_filter(remove, None)
    return GLib.SOURCE_CONTINUE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--mount", action="append", type=Mount.parse, required=True)
    parser.add_argument("--auth", choices=("basic", "digest"), help="for mounts with auth")
    parser.add_argument("--user", default="camera")
    parser.add_argument("--password", default="camera secret")
    args = parser.parse_args()
    Gst.init(None)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    if args.auth:
        server.set_auth(_auth(args.auth, args.user, args.password))
    elif any(mount.auth for mount in args.mount):
        raise SystemExit("a mount with auth needs --auth")
    mounts = server.get_mount_points()
    for mount in args.mount:
        mounts.add_factory(mount.path, CameraFactory(mount))

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on 127.0.0.1:{args.port}")
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, _drop_clients, server)
    port = server.get_bound_port()
    urls = [f"rtsp://127.0.0.1:{port}{mount.path}" for mount in args.mount]
    print(json.dumps({"ready": True, "port": port, "urls": urls}), flush=True)
    loop.run()
    _drop_clients(server)
    sys.exit(0)


if __name__ == "__main__":
    main()
