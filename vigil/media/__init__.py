"""Video from cameras to disk and to clients: ingest, hub, recorder, archive (DESIGN.md, Media)."""
