"""Playback: a session clock drives the recorded frames of one or many cameras to a client."""
