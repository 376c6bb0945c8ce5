"""The kernel's ephemeral ports: the local ends it lends to outgoing connections, and why a service's port should not
be one of them.

Linux gives every outgoing connection a local port from net.ipv4.ip_local_port_range (32768-60999 by default), unless
the port is listed in net.ipv4.ip_local_reserved_ports. gRPC's customary ports (50051, and the cluster's shards from
50061) lie in that range. While a server runs it holds its port, so nothing else gets it; once it dies (a kill -9, a
crash) any connection made on the host may be given that port as its local end, and holds it while it lives and for
TIME_WAIT_S after it closes: the server started again cannot bind it. Seen in the cluster's kill -9 test: shard-1 was
refused its port for 60 s after Envoy's or a client's connection took it.
"""

from __future__ import annotations

RANGE_PATH = "/proc/sys/net/ipv4/ip_local_port_range"
RESERVED_PATH = "/proc/sys/net/ipv4/ip_local_reserved_ports"
TIME_WAIT_S = 60  # Linux's TCP_TIMEWAIT_LEN: a closed connection keeps its local port this long
SYSCTL_FILE = "deploy/sysctl.d/60-medsettle-ports.conf"
SETTING_CHARS_MAX = 64 * 1024  # read of a setting at most (the kernel prints reserved ports as ranges)


def parse_range(text: str) -> tuple[int, int]:
    """`ip_local_port_range`: "32768\\t60999"."""
    low, high = (int(part) for part in text.split())
    assert 0 < low <= high <= 65535, (low, high)
    return low, high


def parse_reserved(text: str) -> list[tuple[int, int]]:
    """`ip_local_reserved_ports`: "50051,50061-50068" (empty when none), as inclusive ranges."""
    ranges = []
    for part in text.strip().split(","):
        if part:
            first, _, last = part.partition("-")
            ranges.append((int(first), int(last or first)))
    return ranges


def lendable(port: int, range_text: str, reserved_text: str) -> tuple[int, int] | None:
    """The ephemeral range when the kernel may lend `port` to an outgoing connection (in the range, not reserved),
    else None."""
    low, high = parse_range(range_text)
    if not low <= port <= high:
        return None
    if any(first <= port <= last for first, last in parse_reserved(reserved_text)):
        return None
    return low, high


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as settings:
            return settings.read(SETTING_CHARS_MAX)
    except OSError:
        return None  # not Linux


def range_here() -> tuple[int, int] | None:
    """This host's ephemeral range; None where /proc does not say (not Linux)."""
    text = _read(RANGE_PATH)
    return None if text is None else parse_range(text)


def lendable_here(port: int) -> tuple[int, int] | None:
    """`lendable` on this host's settings; None where /proc does not say."""
    range_text, reserved_text = _read(RANGE_PATH), _read(RESERVED_PATH)
    return None if range_text is None or reserved_text is None else lendable(port, range_text, reserved_text)


def remedy(port: int, low: int) -> str:
    return (f"add {port} to net.ipv4.ip_local_reserved_ports (sysctl; {SYSCTL_FILE} keeps it across boots), or "
            f"listen on a port below {low}")
