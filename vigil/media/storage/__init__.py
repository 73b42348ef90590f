"""Storages: where recordings are written, their health, their space."""
