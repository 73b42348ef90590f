"""The cameras of the system: their configuration in the system document, and the rules for it."""
