"""The read buffer of each TLS connection the event loop holds.

asyncio gives every TLS connection (a browser's over HTTPS, each peer server's) a read buffer
of 256 KiB, filled with zeros when the connection opens, so resident at once: a quarter of a
megabyte per connection that a server holds open for hours. Reads of at most 64 KiB are as
fast for what a server receives (requests, documents, relayed video of a few Mbit/s) and cost
a quarter: a member of a system of 25 servers holds 24 peer connections, 4.6 MB less
(docs/design/system.md, "An idle server's memory"). asyncio has no setting for it; the size is
the protocol class's attribute, read for each new connection.
"""

from asyncio import sslproto

READ_BUFFER_BYTES = 64 * 1024


def shrink_read_buffers() -> None:
    sslproto.SSLProtocol.max_size = READ_BUFFER_BYTES
