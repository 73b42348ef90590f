"""Our RTSP client (RFC 2326): why it is not FFmpeg's, see docs/design/ingest.md."""
