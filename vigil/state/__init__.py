"""State: the replicated system document and the server's local SQLite database.

Only this package opens the database and the document. Capabilities keep their own SQL in a
store module of their own folder and run it through `Database.run`.
"""

from vigil.state.collection import Collection, Singleton
from vigil.state.database import Database, Migration
from vigil.state.document import SystemDocument, read_root

__all__ = ["Collection", "Database", "Migration", "Singleton", "SystemDocument", "read_root"]
