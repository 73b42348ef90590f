"""Media worker processes: each pulls and records a share of the server's cameras, linked to
the API process by a Unix socket (docs/design/workers.md)."""
