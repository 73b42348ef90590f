"""A minimal RTSP client that pulls many streams over TCP and counts what arrives.

Used by the benchmarks as the load: it speaks just enough RTSP (DESCRIBE, SETUP interleaved,
PLAY) to make a server send, and reads the interleaved RTP without decoding it.
"""

import asyncio
from dataclasses import dataclass


@dataclass
class PullStats:
    url: str
    packets: int = 0
    payload_bytes: int = 0
    error: str | None = None


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, lines: list[str]
) -> dict[str, str]:
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    if " 200 " not in status_line:
        raise RuntimeError(f"{lines[0]} → {status_line}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    if int(headers.get("content-length", "0")):
        await reader.readexactly(int(headers["content-length"]))
    return headers


async def pull(url: str, seconds: float, tracks: int = 1) -> PullStats:
    """Play tracks 0 … `tracks` - 1 of `url` (video, then sound) for `seconds`."""
    stats = PullStats(url)
    host_port = url.split("/")[2]
    host, port = host_port.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        await _request(reader, writer, [f"DESCRIBE {url} RTSP/1.0", "CSeq: 1"])
        session = ""
        for track in range(tracks):
            setup = await _request(
                reader,
                writer,
                [
                    f"SETUP {url}/trackID={track} RTSP/1.0",
                    f"CSeq: {2 + track}",
                    *([f"Session: {session}"] if session else []),
                    f"Transport: RTP/AVP/TCP;unicast;interleaved={2 * track}-{2 * track + 1}",
                ],
            )
            session = setup["session"].split(";")[0]
        writer.write(f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\nSession: {session}\r\n\r\n".encode())
        await reader.readuntil(b"\r\n\r\n")
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            header = await asyncio.wait_for(reader.readexactly(4), timeout=5)
            length = int.from_bytes(header[2:4], "big")
            await reader.readexactly(length)
            if header[1] % 2 == 0:  # RTP, not RTCP
                stats.packets += 1
                stats.payload_bytes += length - 12
    except (OSError, RuntimeError, asyncio.IncompleteReadError, TimeoutError) as err:
        stats.error = f"{type(err).__name__}: {err}"
    finally:
        writer.close()
    return stats


async def pull_all(urls: list[str], seconds: float, tracks: int = 1) -> list[PullStats]:
    return list(await asyncio.gather(*(pull(url, seconds, tracks) for url in urls)))
