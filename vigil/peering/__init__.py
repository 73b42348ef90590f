"""What servers of a system say to each other beneath the system's own messages: TLS pinned
to their identity keys, and batches of relayed media. Both the peer mesh (`system`) and the
media workers, which feed relaying servers past their API process (`media`), speak it."""
