"""Export: clips of the archive as MP4 files, as background jobs or streamed downloads."""
