"""A fuzzer nobody here wrote, Schemathesis, against a real server: every operation of the
API's description with data made from it, valid and not. No answer is a 5xx, none has a
status or a body the description does not list, no schema-valid request is refused where the
description says all its rules (tests/schemathesis.toml names where it cannot), no invalid one
is taken, and the server's memory stays bounded."""

from tests.fuzzing import cases, schemathesis
from tests.processes import rss_mib
from tests.servers import ServerProcess

EXAMPLES = 5  # per operation and phase: bounded, and the same cases every run
PHASES = "examples,coverage,fuzzing"
MIN_CASES = 2000  # about 2,700: fewer means operations went untested
MAX_GROWTH_MIB = 64.0
RUN_TIMEOUT_S = 600


def test_the_fuzzer_finds_no_fault_and_the_server_holds_its_memory(
    system_server: ServerProcess,
) -> None:
    with system_server.login() as owner:
        token = owner.headers["authorization"].removeprefix("Bearer ")
    before = rss_mib(system_server.pid)
    run = schemathesis(system_server, token, EXAMPLES, PHASES, RUN_TIMEOUT_S)
    report = run.stdout[-12000:] + run.stderr
    assert run.returncode == 0, f"Schemathesis found faults:\n{report}"
    counted = cases(run.stdout)
    assert counted is not None, report
    generated, passed = counted
    assert generated == passed, report
    assert generated >= MIN_CASES, f"only {generated} cases:\n{report}"
    grown = rss_mib(system_server.pid) - before
    assert grown < MAX_GROWTH_MIB, f"the server grew {grown:.0f} MiB under the fuzzer"
    with system_server.client() as anonymous:  # still serving (the owner may be renamed)
        assert anonymous.get("/server").status_code == 200
