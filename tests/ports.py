"""Loopback ports for the servers the tests start, below the kernel's ephemeral range.

A port from `bind(("127.0.0.1", 0))` lies in the ephemeral range (32768-60999 by default). A test that kills a server
and starts it again on the same port (the cluster's kill -9 of a shard, the supervisor's restart) can then find it
lent to some outgoing connection meanwhile, for up to 60 s (src/medsettle/ephemeral_ports.py): seen once in CI. Ports
below the range are never lent, so only a server can hold them.
"""

from __future__ import annotations

import random
import socket

from medsettle import ephemeral_ports

BELOW_RANGE_PORTS = 12_000  # how far below the range to look (20768-32767 with the default range)
ATTEMPTS_MAX = 200


def _low() -> int:
    here = ephemeral_ports.range_here()
    return 32768 if here is None else here[0]  # not Linux: the IANA dynamic range starts at 49152, above this


def _free(port: int) -> bool:
    with socket.socket() as probe:  # no SO_REUSEADDR: a TIME_WAIT on it counts as taken
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int = 1) -> int:
    """The first of `count` consecutive free loopback ports below the ephemeral range."""
    assert 1 <= count <= 64
    high = _low() - count
    low = max(1024, high - BELOW_RANGE_PORTS)
    for _ in range(ATTEMPTS_MAX):
        first = random.randint(low, high)
        if all(_free(first + offset) for offset in range(count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports in {low}-{high + count - 1}")


def free_port() -> int:
    return free_ports(1)
