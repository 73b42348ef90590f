"""The `vigil` command: `vigil server` runs a server."""

import argparse
import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from vigil import __version__
from vigil.app import VigilServer
from vigil.clock import SystemClock
from vigil.config import ServerConfig
from vigil.logs import configure_logging

logger = logging.getLogger("vigil")


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
    server.add_argument("--port", type=int, default=7001, help="HTTP port (default: 7001)")
    return parser


async def serve(config: ServerConfig) -> None:
    server = await VigilServer.open(config, SystemClock())
    try:
        http = uvicorn.Server(
            uvicorn.Config(
                server.app,
                host=config.host,
                port=config.port,
                log_config=None,
                lifespan="off",
                server_header=False,
            )
        )
        logger.info("listening", extra={"url": f"http://{config.host}:{config.port}"})
        await http.serve()
    finally:
        await server.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.log_level)
    if args.command == "server":
        asyncio.run(serve(ServerConfig(data_dir=args.data, host=args.host, port=args.port)))
    return 0
