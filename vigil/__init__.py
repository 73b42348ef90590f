"""Vigil: an open-source video management system."""

__version__ = "0.1.0"
