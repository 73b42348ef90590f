"""The archive: recorded files on storages, their index, and the timeline drawn from it."""
