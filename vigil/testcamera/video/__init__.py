"""The test cameras' video: rendered and encoded once per stream profile, cached on disk."""
