"""Storages: where recordings are written, their health, their space, and retention, which
frees it."""
