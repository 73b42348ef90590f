"""Why `vigil testcamera` cannot run as asked; the command prints the message and exits."""


class SimulatorError(Exception):
    pass
