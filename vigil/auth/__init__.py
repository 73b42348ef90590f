"""Users, roles, permissions, sessions, lock-out and the audit trail."""
