"""Layouts: named arrangements of cameras in tiles, kept in the system's configuration."""
