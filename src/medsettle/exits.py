"""The exit statuses of every `medsettle` command (docs/operations.md lists them), and the one error a command
raises to stop with a one-line message."""

from __future__ import annotations

OK = 0
REFUSED = 1  # the server (or a check) said no: a refusal, NOT_SERVING, bad rows in a file, records left to migrate
USAGE = 2  # a bad flag, environment value, data directory or file: one line on stderr, nothing done
UNREACHABLE = 3  # no server answered at --target (down, wrong address, TLS mismatch): nothing done; try again
WRITER_GONE = 70  # `serve`: a worker's group-commit writer stopped (EX_SOFTWARE; restart it)
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class CommandError(Exception):
    """Stops a command with one line on stderr (`medsettle <command>: <message>`) and an exit status."""

    def __init__(self, message: str, status: int = USAGE) -> None:
        super().__init__(message)
        self.status = status
