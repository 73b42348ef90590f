import subprocess
import sys


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vigil", "--help"], capture_output=True, text=True, check=True
    )
    assert "server" in result.stdout


def test_server_help_names_its_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vigil", "server", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--data", "--host", "--port"):
        assert option in result.stdout
