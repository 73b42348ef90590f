#!/usr/bin/python3
"""A player nobody here wrote: GStreamer's `rtspsrc` (or `qtdemux` for a file) and its
decoders, counting the pictures decoded and reporting every error on the way.

Run by Debian's Python (GStreamer's bindings); it imports nothing of Vigil's.

    /usr/bin/python3 tests/peers/gst_play.py rtsp://user:pass@127.0.0.1:7554/cameras/ID/main \
        --transport tcp --pictures 25 --timeout 20
    /usr/bin/python3 tests/peers/gst_play.py /path/to/recording.mp4

It prints one JSON line: `pictures` (decoded), `sound` (decoded audio buffers), `caps` (of
the first picture), `errors` and `warnings` (the bus's, as GStreamer words them), `eos`
and `timed_out`. A stream is played until `--pictures` were decoded, a file to its end.
"""

import argparse
import json
import os
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


class Player:
    def __init__(self, location: str, transport: str, pictures: int) -> None:
        self.wanted = pictures
        self.report: dict[str, Any] = {
            "pictures": 0,
            "sound": 0,
            "caps": None,
            "errors": [],
            "warnings": [],
            "eos": False,
            "timed_out": False,
        }
        self.loop = GLib.MainLoop()
        self.pipeline = Gst.Pipeline.new("player")
        if "://" in location:
            source = self._rtsp_source(location, transport)
        else:
            source = Gst.ElementFactory.make("filesrc")
            source.set_property("location", location)
            demuxer = Gst.ElementFactory.make("qtdemux")
            self.pipeline.add(source)
            self.pipeline.add(demuxer)
            source.link(demuxer)
            source = demuxer
        if source.get_parent() is None:
            self.pipeline.add(source)
        source.connect("pad-added", self._on_source_pad)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._on_message)

    def _rtsp_source(self, url: str, transport: str) -> Gst.Element:
        source = Gst.ElementFactory.make("rtspsrc")
        parts = urlsplit(url)
        if parts.username:
            source.set_property("user-id", unquote(parts.username))
            source.set_property("user-pw", unquote(parts.password or ""))
            netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
            url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        source.set_property("location", url)
        source.set_property("protocols", "tcp" if transport == "tcp" else "udp")
        source.set_property("latency", 200)
        return source

    def _on_source_pad(self, _element: Gst.Element, pad: Gst.Pad) -> None:
        # A queue per track: a demuxer feeds all of them from one thread, and a decodebin
        # holds its first output until it can expose it, which needs the other tracks fed.
        queue = Gst.ElementFactory.make("queue")
        decoder = Gst.ElementFactory.make("decodebin")
        decoder.connect("pad-added", self._on_decoded_pad)
        for element in (queue, decoder):
            self.pipeline.add(element)
            element.sync_state_with_parent()
        queue.link(decoder)
        pad.link(queue.get_static_pad("sink"))

    def _on_decoded_pad(self, _element: Gst.Element, pad: Gst.Pad) -> None:
        caps = pad.get_current_caps() or pad.query_caps(None)
        video = caps.to_string().startswith("video/")
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        sink.set_property("async", False)  # each sink prerolls on its own (one demuxer thread)
        self.pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))
        pad.add_probe(Gst.PadProbeType.BUFFER, self._on_picture if video else self._on_sound)

    def _on_picture(self, pad: Gst.Pad, _info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        if self.report["caps"] is None:
            caps = pad.get_current_caps()
            self.report["caps"] = caps.to_string() if caps else None
        self.report["pictures"] += 1
        if self.wanted and self.report["pictures"] >= self.wanted:
            GLib.idle_add(self.loop.quit)
        return Gst.PadProbeReturn.OK

    def _on_sound(self, _pad: Gst.Pad, _info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        self.report["sound"] += 1
        return Gst.PadProbeReturn.OK

    def _on_message(self, _bus: Gst.Bus, message: Gst.Message) -> None:
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            self.report["errors"].append(f"{message.src.get_name()}: {error.message} ({debug})")
            self.loop.quit()
        elif message.type == Gst.MessageType.WARNING:
            warning, debug = message.parse_warning()
            self.report["warnings"].append(f"{message.src.get_name()}: {warning.message}")
        elif message.type == Gst.MessageType.EOS:
            self.report["eos"] = True
            self.loop.quit()

    def _on_timeout(self) -> bool:
        self.report["timed_out"] = True
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def run(self, timeout_s: float) -> dict[str, Any]:
        GLib.timeout_add(int(timeout_s * 1000), self._on_timeout)
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self.report["errors"].append("the pipeline would not start")
        else:
            self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        return self.report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("location", help="an rtsp:// URL or a file")
    parser.add_argument("--transport", choices=("tcp", "udp"), default="tcp")
    parser.add_argument("--pictures", type=int, default=0, help="stop after so many (0: EOS)")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    Gst.init(None)
    if "://" not in args.location and not os.path.exists(args.location):
        raise SystemExit(f"no such file: {args.location}")
    report = Player(args.location, args.transport, args.pictures).run(args.timeout)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
