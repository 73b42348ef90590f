"""The `vigil` command: `vigil server` runs a server, `vigil testcamera` simulated cameras."""

import argparse
import asyncio
import gc
import ipaddress
import logging
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from vigil import __version__, listeners, tls_buffers
from vigil.app import DataFolderInUse, VigilServer
from vigil.clock import SystemClock
from vigil.config import ServerConfig
from vigil.https import (
    CertificateFiles,
    UnusableCertificate,
    given_certificate,
    own_certificate,
)
from vigil.logs import configure_logging
from vigil.media.rtsp.service import RtspUnavailable
from vigil.ports import PortUnavailable, check_free
from vigil.testcamera.config import TestCameraConfig
from vigil.testcamera.errors import SimulatorError

logger = logging.getLogger("vigil")

N = TypeVar("N", int, float)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigil", description="Vigil video management system.")
    parser.add_argument("--version", action="version", version=f"vigil {__version__}")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="the least important kind of event logged (default: info)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    server = commands.add_parser("server", help="run a Vigil server")
    server.add_argument("--data", type=Path, default=Path("data"), help="data folder")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on")
    server.add_argument("--port", type=_port, default=7001, help="HTTP port (default: 7001)")
    server.add_argument(
        "--http",
        choices=["serve", "redirect", "off"],
        default=ServerConfig.http,
        help="what the HTTP port does: serve as HTTPS does, redirect to HTTPS, or nothing "
        f"(default: {ServerConfig.http})",
    )
    server.add_argument(
        "--https-port",
        type=_port,
        default=ServerConfig.https_port,
        help=f"HTTPS port (default: {ServerConfig.https_port}; 0: none)",
    )
    server.add_argument(
        "--tls-cert",
        type=Path,
        help="the HTTPS certificate (PEM, with its chain); default: one the server makes",
    )
    server.add_argument("--tls-key", type=Path, help="the key of --tls-cert (PEM)")
    server.add_argument(
        "--address",
        help="host name or IP address other servers of the system reach this one at "
        "(default: --host; give it when that is 0.0.0.0)",
    )
    server.add_argument(
        "--rtsp-port",
        type=_port,
        default=7554,
        help="RTSP port for standard players, live and archive (default: 7554; 0: off)",
    )
    server.add_argument(
        "--peer-port",
        type=_port,
        default=ServerConfig.peer_port,
        help="port the other servers of the system connect to, over TLS "
        f"(default: {ServerConfig.peer_port}; 0: none, a server on its own)",
    )
    server.add_argument(
        "--discovery-address",
        type=_ipv4,
        action="append",
        default=[],
        metavar="ADDR",
        help="probe for cameras out of this IPv4 address's interface only (repeatable; "
        "default: every interface)",
    )
    server.add_argument(
        "--sync-every",
        type=_sync_period,
        default=ServerConfig.sync_every_s,
        metavar="SECONDS",
        help="force recordings to the disk after this much video and at each file's end: "
        "the most a power cut loses (default: 5; 0: leave it to the operating system)",
    )
    server.add_argument(
        "--media-workers",
        type=_workers,
        default=ServerConfig.media_workers,
        metavar="N",
        help="processes that pull and record the cameras, each a share of them "
        f"(default: one per core, here {ServerConfig.media_workers})",
    )
    _add_testcamera(commands)
    return parser


def _within(convert: Callable[[str], N], low: N, high: N, what: str) -> Callable[[str], N]:
    """An argparse type: `convert` the text, refused unless it is from `low` to `high`."""

    def parse(text: str) -> N:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"not {what} ({low} to {high}): {text!r}")
        return value

    return parse


_port = _within(int, 0, 65535, "a port")
_sync_period = _within(float, 0.0, 600.0, "a number of seconds")
_workers = _within(int, 1, 256, "a number of processes")


def _ipv4(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not an IPv4 address: {text!r}") from err


def _add_testcamera(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    defaults = TestCameraConfig()
    camera = commands.add_parser(
        "testcamera",
        help="run simulated IP cameras (RTSP, ONVIF, WS-Discovery)",
        description="Simulated ONVIF IP cameras for tests, benchmarks and demonstrations.",
    )
    camera.add_argument("--count", type=int, default=defaults.count, help="number of cameras")
    camera.add_argument("--host", default=defaults.host, help="address to listen on")
    camera.add_argument(
        "--rtsp-port", type=int, default=defaults.rtsp_port, help="RTSP port shared by all"
    )
    camera.add_argument(
        "--http-port",
        type=int,
        default=defaults.http_port,
        help="HTTP (ONVIF) port of the first camera; camera i uses this + i",
    )
    camera.add_argument("--codec", choices=["h264", "h265"], default=defaults.codec)
    camera.add_argument("--main", default=defaults.main, help="main stream WxH@FPS:KBPSk")
    camera.add_argument("--sub", default=defaults.sub, help="sub stream WxH@FPS:KBPSk")
    camera.add_argument("--gop", type=int, default=defaults.gop, help="frames per GOP")
    camera.add_argument("--user", help="user name required by every camera (default: none)")
    camera.add_argument("--password", help="password of --user")
    camera.add_argument(
        "--no-caption",
        action="store_true",
        help="no live caption (clock, frame, PTZ, name) in the pictures",
    )
    camera.add_argument(
        "--no-audio", action="store_true", help="no sound track (AAC) beside the video"
    )
    camera.add_argument(
        "--no-ptz", action="store_true", help="no pan-tilt-zoom head: a fixed camera"
    )
    camera.add_argument(
        "--motion-every", type=float, help="seconds between motion events, each camera"
    )
    camera.add_argument(
        "--motion-for", type=float, default=defaults.motion_for_s, help="seconds each lasts"
    )
    camera.add_argument("--lpr", action="store_true", help="push licence plate reads")
    camera.add_argument("--lpr-url", help="URL the plate reads are POSTed to")
    camera.add_argument(
        "--lpr-every", type=float, default=defaults.lpr_every_s, help="seconds between reads"
    )
    camera.add_argument("--lpr-plates", type=Path, help="file of plates, one a line")
    camera.add_argument(
        "--cache", type=Path, default=defaults.cache_dir, help="folder of the encoded video loops"
    )
    camera.add_argument(
        "--no-discovery", action="store_true", help="do not answer WS-Discovery probes"
    )


async def serve(config: ServerConfig) -> None:
    # What the server writes (database, recordings, exports) is its account's alone.
    os.umask(0o077)
    tls_buffers.shrink_read_buffers()
    # Every port before the data folder is opened: a port that is taken stops the server
    # before it starts any camera.
    ports = listeners.bind(config)
    try:
        check_free(config.host, config.rtsp_port, "--rtsp-port")
        check_free(config.host, config.peer_port, "--peer-port")
        tls = _certificate(config) if config.https_port else None
        server = await VigilServer.open(config, SystemClock())
    except BaseException:
        ports.close()
        raise
    # What was made to start (modules, the app, the document: some 10^5 objects) lives as
    # long as the process; left to the collector, each full collection walks it again and
    # holds the loop up to 60 ms, which live viewers see as a late picture (workers.md).
    gc.freeze()
    try:
        logger.info("listening", extra={"urls": listeners.urls(config)})
        # uvicorn handles SIGTERM/SIGINT while serving and raises them again when it is done;
        # by then the shutdown is under way, so they must not kill the process before the
        # server is closed (recordings finished, database closed).
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda _signal, _frame: None)
        await listeners.serve(server.app, config, ports, tls)
    finally:
        await server.close()
        logger.info("stopped")


def _certificate(config: ServerConfig) -> CertificateFiles:
    if config.tls_cert is not None and config.tls_key is not None:
        return given_certificate(config.tls_cert, config.tls_key)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    addresses = [config.host, *([config.address] if config.address else [])]
    return own_certificate(config.data_dir, addresses)


def _testcamera_config(args: argparse.Namespace) -> TestCameraConfig:
    return TestCameraConfig(
        count=args.count,
        host=args.host,
        rtsp_port=args.rtsp_port,
        http_port=args.http_port,
        codec=args.codec,
        main=args.main,
        sub=args.sub,
        gop=args.gop,
        user=args.user,
        password=args.password,
        caption=not args.no_caption,
        audio=not args.no_audio,
        ptz=not args.no_ptz,
        motion_every_s=args.motion_every,
        motion_for_s=args.motion_for,
        lpr=args.lpr,
        lpr_url=args.lpr_url,
        lpr_every_s=args.lpr_every,
        lpr_plates=args.lpr_plates,
        cache_dir=args.cache.expanduser(),
        discovery=not args.no_discovery,
    )


def testcamera(config: TestCameraConfig) -> int:
    try:
        # The simulator's own libraries (numpy, Pillow: the `testcamera` extra) are loaded only
        # for it, so that a server installed without them runs.
        from vigil.testcamera.runner import build_cameras, run
    except ModuleNotFoundError as err:
        logger.error(
            "testcamera cannot run",
            extra={"reason": f"{err}: install Vigil with its testcamera extra (vigil[testcamera])"},
        )
        return 1
    try:
        # Every port before the video loops are encoded, which may take a while.
        check_free(config.host, config.rtsp_port, "--rtsp-port")
        for index in range(config.count):
            check_free(config.host, config.http_port + index, "--http-port")
        asyncio.run(run(config, build_cameras(config)))
    except (SimulatorError, PortUnavailable) as err:
        logger.error("testcamera cannot run", extra={"reason": str(err)})
        return 1
    return 0


def _server_config(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        data_dir=args.data,
        host=args.host,
        address=args.address,
        port=args.port,
        http=args.http,
        https_port=args.https_port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        rtsp_port=args.rtsp_port,
        peer_port=args.peer_port,
        discovery_addresses=tuple(args.discovery_address),
        sync_every_s=args.sync_every,
        media_workers=args.media_workers,
        log_level=args.log_level,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    if args.command == "server":
        try:
            server = _server_config(args)
        except ValueError as err:
            parser.error(str(err))
        try:
            asyncio.run(serve(server))
        except (DataFolderInUse, RtspUnavailable, PortUnavailable, UnusableCertificate) as err:
            logger.error("cannot start", extra={"reason": str(err)})
            return 1
    elif args.command == "testcamera":
        try:
            config = _testcamera_config(args)
        except ValueError as err:
            parser.error(str(err))
        return testcamera(config)
    return 0
