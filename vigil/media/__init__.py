"""Video from cameras to disk and to clients: ingest, hub, recorder, archive, and what reads it
(docs/design/architecture.md, "The media path")."""
