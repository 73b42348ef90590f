"""Guessing passwords from the network: each address is slowed once it keeps failing, an
account is locked from the address that guessed (never from every address), and a name that
is no user's is answered as one that is. The login's parts, in process, on a manual clock and
with client addresses a loopback test cannot have."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.clocked import ManualClock
from tests.login_parts import login_parts
from vigil.auth.lockout import LOCK_MS
from vigil.auth.login import LoginService
from vigil.auth.throttle import FREE_FAILURES, LoginThrottle
from vigil.auth.users import UserService
from vigil.errors import AccountLocked, TooManyAttempts, Unauthenticated, VigilError

PASSWORD = "the owner's password"
STRANGER = "192.0.2.66"  # on the camera network
CONTROL_ROOM = "10.1.2.3"


class Logins:
    def __init__(self, service: LoginService, users: UserService, clock: ManualClock) -> None:
        self.service = service
        self.users = users
        self.clock = clock

    async def outcome(self, name: str, password: str, address: str) -> str:
        """ "ok", or the refusal's error code with its time when it has one."""
        try:
            await self.service.login(name, password, address)
        except (AccountLocked, TooManyAttempts) as err:
            when = err.extra.get("locked_until_ms", err.extra.get("retry_after_s"))
            return f"{err.code} {when}"
        except VigilError as err:
            return err.code
        return "ok"


@pytest.fixture
async def logins(tmp_path: Path) -> AsyncIterator[Logins]:
    clock = ManualClock()
    parts = await login_parts(tmp_path, clock, PASSWORD, LoginThrottle(clock))
    yield Logins(parts.service, parts.users, clock)
    await parts.db.close()


async def test_a_stranger_locks_the_owner_out_of_the_stranger_s_address_only(
    logins: Logins,
) -> None:
    answers = [await logins.outcome("owner", f"guess {n}", STRANGER) for n in range(7)]
    until = logins.clock.now_ms() + LOCK_MS
    assert answers == ["unauthenticated"] * 6 + [f"account_locked {until}"]
    # Not even the right password from there, on any server (the lock is in the document)…
    assert await logins.outcome("owner", PASSWORD, STRANGER) == f"account_locked {until}"
    (owner,) = logins.users.all()
    assert owner.record.locks == {STRANGER: until}
    # …but the control room logs in.
    assert await logins.outcome("owner", PASSWORD, CONTROL_ROOM) == "ok"
    logins.clock.advance(minutes=30)
    assert await logins.outcome("owner", PASSWORD, STRANGER) == "ok"


async def test_a_name_that_is_no_user_s_is_answered_as_one_that_is(logins: Logins) -> None:
    real = [await logins.outcome("owner", f"guess {n}", "192.0.2.1") for n in range(8)]
    made_up = [await logins.outcome("nobody", f"guess {n}", "192.0.2.2") for n in range(8)]
    assert made_up == real  # 401 six times, then locked until the same time
    assert real[-1].startswith("account_locked")


async def test_an_address_that_keeps_failing_is_slowed_down_whatever_the_names(
    logins: Logins,
) -> None:
    # A few guesses at many names: no name fails often enough to lock, the address does.
    for n in range(FREE_FAILURES):
        assert await logins.outcome(f"name {n}", "guess", STRANGER) == "unauthenticated"
    assert await logins.outcome("name x", "guess", STRANGER) == "too_many_attempts 1"
    # Refused unheard, so even the right password waits; other addresses are not slowed.
    assert await logins.outcome("owner", PASSWORD, STRANGER) == "too_many_attempts 1"
    assert await logins.outcome("owner", PASSWORD, CONTROL_ROOM) == "ok"
    delays = []
    for n in range(8):  # each further wrong password doubles the wait, up to a minute
        logins.clock.advance(seconds=60)
        assert await logins.outcome(f"name y{n}", "guess", STRANGER) == "unauthenticated"
        delays.append(await logins.outcome(f"name y{n}", "guess", STRANGER))
    assert delays == [f"too_many_attempts {s}" for s in (2, 4, 8, 16, 32, 60, 60, 60)]
    # The window passes: the address starts afresh.
    logins.clock.advance(minutes=31)
    assert await logins.outcome("name z", "guess", STRANGER) == "unauthenticated"
    assert await logins.outcome("owner", PASSWORD, STRANGER) == "ok"


async def test_unknown_names_leave_no_trace_in_the_document(logins: Logins) -> None:
    for n in range(7):
        await logins.outcome("nobody", f"guess {n}", STRANGER)
    (owner,) = logins.users.all()
    assert owner.record.locks == {}
    with pytest.raises(Unauthenticated):
        await logins.service.login("nobody", PASSWORD, CONTROL_ROOM)
