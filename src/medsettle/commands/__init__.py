"""The commands of the `medsettle` command line, one module per group, each with `register(commands)`; cli.py lists
them (COMMANDS) and is their one entry. They use the client, the loader, the store and the server; nothing of those
imports a command. Helpers shared by the commands' flags live here."""

from __future__ import annotations

import argparse
import os


def env(name: str, default: str) -> str:
    """A flag's default from the environment (systemd units and shells use the same command line)."""
    return os.environ.get(name, default)


def number(kind: type, low: float, high: float, env_name: str):
    """An argparse type for a number in [low, high]; its message names the environment variable too, because
    argparse also runs the (string) default read from it through this."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'} from {low} to {high}, got {text!r}"
                f" (from the flag or {env_name})")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its message
    return parse
