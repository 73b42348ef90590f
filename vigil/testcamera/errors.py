"""Why `vigil testcamera` cannot run as asked; the command prints the message and exits."""


class SimulatorError(Exception):
    pass


class PortUnavailable(SimulatorError):
    def __init__(self, host: str, port: int, purpose: str, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port} for {purpose}: {reason}")
        self.host = host
        self.port = port
        self.purpose = purpose
