"""The system a server belongs to: identity, creation, and (later) join, detach and peers."""
