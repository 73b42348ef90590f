"""The read buffer of each TLS connection the event loop holds.

asyncio gives every TLS connection (a browser's over HTTPS, each peer server's) a read buffer
of 256 KiB, filled with zeros when the connection opens, so resident at once: a quarter of a
megabyte per connection that a server holds open for hours. 64 KiB still takes what a server
receives (requests, documents, a 4 Mbit/s relayed picture of ~20 KB) in one read, for a
quarter of the memory: a member of a system of 25 servers holds 24 peer connections, 4.6 MB
less (docs/design/system.md, "An idle server's memory"). The relay's CPU figures there were
taken with it (a relay message of four streams' 40 ms took two reads). asyncio has no setting
for it; the size is the protocol class's attribute, read for each new connection.
"""

from asyncio import sslproto

READ_BUFFER_BYTES = 64 * 1024


def shrink_read_buffers() -> None:
    sslproto.SSLProtocol.max_size = READ_BUFFER_BYTES
