"""The `medsettle` command line: the one entry of every command.

Each command lives in a module of COMMANDS (src/medsettle/commands/) with a `register(commands)` function that
adds its subparser(s) to `commands` (argparse's subparsers) and sets `run=` to a function of the parsed arguments
returning an exit status. A new command is a new module and one line in COMMANDS.

The global options (output, data directory, connection) are accepted anywhere on the line: every parser of the
tree carries them, without defaults, so `medsettle --json call person ...`, `medsettle call --json person ...` and
`medsettle call person ... --json` are the same command; their defaults (and environment variables) are filled in
once, after parsing. Every error ends the command with one line on stderr and an exit status of `exits`, never a
traceback (MEDSETTLE_TRACEBACK=1 shows it for a bug report).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from medsettle import connect, exits, store_option

COMMANDS = (
    "medsettle.commands.serving",  # serve, up, certs init, health
    "medsettle.commands.data",  # seed, migrate, backup, restore
    "medsettle.commands.call",  # call person|benefit|catalog-item|settle|reverse
    "medsettle.commands.load",  # load
    "medsettle.commands.analysis",  # clearing run, report
    "medsettle.commands.demo",  # demo day
    "medsettle.commands.cluster",  # cluster up|envoy-config|statement|split|manifests
    "medsettle.commands.bench",  # bench export-visits
    "medsettle.commands.ha",  # ha up|status|down
)
DATA_DIR_DEFAULT = "./data"


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                       help="print answers as JSON (the contract's fields and units)")
    group.add_argument("--data-dir", default=argparse.SUPPRESS,
                       help=f"the store's directory (env MEDSETTLE_DATA_DIR; default {DATA_DIR_DEFAULT})")
    store_option.add(group)
    connect.add_flags(group)


def global_defaults() -> dict[str, object]:
    return {"json": False, "data_dir": os.environ.get("MEDSETTLE_DATA_DIR", DATA_DIR_DEFAULT),
            **store_option.defaults(), **connect.defaults()}


class Parser(argparse.ArgumentParser):
    """Every parser of the tree (subcommands are made of the same class) carries the global options; errors are
    one line (what is wrong and where to look) with exit status 2."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)  # `--t` must not quietly mean --target or --tls-dir
        super().__init__(*args, **kwargs)
        _add_global_options(self)

    def error(self, message: str):  # type: ignore[override]
        self.exit(exits.USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from importlib import metadata

    try:
        version = metadata.version("medsettle")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    return f"medsettle {version} (contract medsettle.v1, Python {sys.version.split()[0]})"


def parser() -> Parser:
    top = Parser(prog="medsettle", description=__doc__.splitlines()[0].rstrip("."))
    top.add_argument("--version", action="version", version=_version())
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(commands)
    return top


def parse(argv: list[str] | None) -> argparse.Namespace:
    args = parser().parse_args(argv)
    for name, value in global_defaults().items():
        if not hasattr(args, name):
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        return args.run(args)
    except SystemExit as stop:  # a library's own one-line stop (connect.py: no certificate, a bad --as)
        if not isinstance(stop.code, str):
            raise
        print(f"medsettle {args.command}: {stop.code}", file=sys.stderr)
        return exits.USAGE
    except KeyboardInterrupt:
        print(f"medsettle {args.command}: interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except Exception as error:  # noqa: BLE001 - every error is one line; the exit status says what kind
        if os.environ.get("MEDSETTLE_TRACEBACK"):
            raise
        status, text = _one_line(error)
        print(f"medsettle {args.command}: {text}", file=sys.stderr)
        return status


def _one_line(error: Exception) -> tuple[int, str]:
    import grpc

    from medsettle.store.errors import StoreLayoutError, StoreMissing, StoreUnavailable
    from medsettle.supervisor import ServeRefused

    if isinstance(error, exits.CommandError):
        return error.status, str(error)
    if isinstance(error, (ServeRefused, StoreMissing, StoreLayoutError)):
        return exits.USAGE, str(error)
    if isinstance(error, StoreUnavailable):
        return exits.UNREACHABLE, f"the store cannot be reached: {error}"
    if isinstance(error, grpc.RpcError):
        if connect.unreachable(error):
            return exits.UNREACHABLE, f"no answer from the server: {error.code().name}: {error.details()}"
        from medsettle import client

        return exits.REFUSED, client.refusal_line(error)
    if isinstance(error, OSError):
        return exits.USAGE, f"{error.strerror or error}" + (f": {error.filename}" if error.filename else "")
    text = " ".join(str(error).split())[:300]
    return 1, f"failed: {type(error).__name__}: {text} (MEDSETTLE_TRACEBACK=1 shows where)"


if __name__ == "__main__":
    sys.exit(main())
