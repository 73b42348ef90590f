"""Connections between the servers of a system: TLS pinned to each server's listed key,
document sync, status, requests (docs/design/system.md)."""
