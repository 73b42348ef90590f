"""The login's real parts (argon2id, SQLite, the document), in process, with an owner: for
tests and benches that need client addresses a loopback server cannot give them."""

from dataclasses import dataclass
from pathlib import Path

from vigil.auth import store as auth_store
from vigil.auth.audit import AuditTrail
from vigil.auth.lockout import Lockout
from vigil.auth.login import LoginService
from vigil.auth.passwords import Passwords
from vigil.auth.roles import RoleRecord, RoleService
from vigil.auth.sessions import Sessions
from vigil.auth.throttle import LoginThrottle
from vigil.auth.users import UserRecord, UserService
from vigil.clock import Clock
from vigil.state import Collection, Database, SystemDocument


@dataclass
class LoginParts:
    service: LoginService
    users: UserService
    db: Database


async def login_parts(
    folder: Path, clock: Clock, owner_password: str, throttle: LoginThrottle
) -> LoginParts:
    """A login service over a new database in `folder`, whose user `owner` has
    `owner_password`; the caller closes `db`."""
    db = Database(folder / "auth.db")
    await db.open()
    await db.migrate("auth", auth_store.MIGRATIONS)
    document = SystemDocument(db, clock)
    await document.open()
    users = UserService(
        Collection(document, "users", UserRecord),
        RoleService(Collection(document, "roles", RoleRecord)),
        clock,
    )
    passwords = Passwords()
    async with document.change():
        users.create_owner("owner", await passwords.hash(owner_password))
    sessions = Sessions(db, users, clock)
    await sessions.open()
    service = LoginService(
        document=document,
        users=users,
        passwords=passwords,
        lockout=Lockout(db, document, users, clock),
        throttle=throttle,
        sessions=sessions,
        audit=AuditTrail(db, clock),
    )
    return LoginParts(service, users, db)
