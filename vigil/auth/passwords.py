"""Password hashing with argon2id, off the event loop and with bounded memory.

Parameters: RFC 9106's second recommended option (t=3, m=64 MiB, p=4), argon2-cffi's default:
about 0.1 s per hash on one core of this project's 2-core reference machine, which keeps
online guessing slow and logins quick. Each hash holds 64 MiB while it runs, so at most
`concurrency` run at once; further logins wait their turn. The parameters are stored in every
hash, and a hash made with older ones is replaced at the next successful login.
bench/login.py measures the resulting latency and throughput.
"""

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

TIME_COST = 3
MEMORY_COST_KIB = 64 * 1024
PARALLELISM = 4


class Passwords:
    def __init__(self, *, concurrency: int = 2) -> None:
        self._hasher = PasswordHasher(
            time_cost=TIME_COST,
            memory_cost=MEMORY_COST_KIB,
            parallelism=PARALLELISM,
            type=Type.ID,
        )
        self._slots = asyncio.Semaphore(concurrency)
        # Verified against when the user does not exist, so that "no such user" costs as much
        # time as "wrong password" and the two cannot be told apart by timing.
        self._decoy = self._hasher.hash("decoy password that matches nothing")

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Check `password`; with no hash (no such user) spend the same time and say no."""
        async with self._slots:
            matches = await asyncio.to_thread(self._verify, password_hash or self._decoy, password)
        return matches and password_hash is not None

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
