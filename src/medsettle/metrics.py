"""Prometheus metrics, off unless asked for (`serve --metrics-listen HOST:PORT`; `up` turns them on).

Workers are separate processes sharing one port, so their metrics are kept in prometheus_client's multiprocess mode:
each process writes its values to files in one directory (PROMETHEUS_MULTIPROC_DIR), and the one HTTP endpoint (in
the supervising process, or in the only worker) adds them up. The environment variable must be set before
prometheus_client is imported anywhere in a process; `enable()` sets it, and this module imports prometheus_client
only once metrics are enabled. Until then every metric is a no-op, so the code that records them costs nothing.

What is exported (all names start with medsettle_):
  rpc_calls_total{method,code}            calls answered, by gRPC status code
  rpc_latency_seconds{method}             histogram of the time from intake to answer
  refusals_total{method,reason}           refusals by their stable reason (docs/reasons.md)
  in_flight_calls                         calls being answered now, summed over workers
  writer_batch_jobs                       histogram of jobs per group commit
  writer_commit_seconds                   histogram of the group-commit transaction's duration (fsync included)
  store_map_used_ratio                    share of the LMDB map the file reaches (warns past 0.8)
  store_full                              1 while writes fail for a full map
  prepaid_usage_bp{province}              prepaid fund usage (drawn / funded) in basis points
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

ENV_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class _Null:
    """A metric that records nothing (metrics are off)."""

    def labels(self, *args: Any, **kwargs: Any) -> _Null:
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def dec(self, amount: float = 1) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def observe(self, value: float) -> None:
        pass


_NULL = _Null()
RPC_CALLS: Any = _NULL
RPC_LATENCY_SECONDS: Any = _NULL
REFUSALS: Any = _NULL
IN_FLIGHT: Any = _NULL
WRITER_BATCH_JOBS: Any = _NULL
WRITER_COMMIT_SECONDS: Any = _NULL
STORE_MAP_USED_RATIO: Any = _NULL
STORE_FULL: Any = _NULL
PREPAID_USAGE_BP: Any = _NULL


def enable(directory: str | None = None) -> str:
    """Turn metrics on in this process (and in processes it spawns afterwards, through the environment).
    Returns the multiprocess directory (made fresh when not given)."""
    directory = directory or os.environ.get(ENV_DIR) or tempfile.mkdtemp(prefix="medsettle-metrics-")
    os.environ[ENV_DIR] = directory
    _create()
    return directory


def enable_in_process() -> None:
    """Turn metrics on in this process only, in prometheus_client's default registry (tests, embedding): no
    multiprocess directory, nothing inherited by child processes."""
    _create()


def enabled() -> bool:
    return RPC_CALLS is not _NULL


def start_if_configured() -> None:
    """In a spawned worker: metrics on when the supervisor turned them on (the directory came in the environment)."""
    if os.environ.get(ENV_DIR) and not enabled():
        _create()


def _create() -> None:
    global RPC_CALLS, RPC_LATENCY_SECONDS, REFUSALS, IN_FLIGHT, WRITER_BATCH_JOBS, WRITER_COMMIT_SECONDS
    global STORE_MAP_USED_RATIO, STORE_FULL, PREPAID_USAGE_BP
    if enabled():
        return
    from prometheus_client import Counter, Gauge, Histogram

    RPC_CALLS = Counter("medsettle_rpc_calls", "Calls answered, by gRPC status code", ["method", "code"])
    RPC_LATENCY_SECONDS = Histogram("medsettle_rpc_latency_seconds", "Time from intake to answer", ["method"],
                                    buckets=LATENCY_BUCKETS_S)
    REFUSALS = Counter("medsettle_refusals", "Refusals by stable reason", ["method", "reason"])
    IN_FLIGHT = Gauge("medsettle_in_flight_calls", "Calls being answered now", multiprocess_mode="livesum")
    WRITER_BATCH_JOBS = Histogram("medsettle_writer_batch_jobs", "Jobs per group commit", buckets=BATCH_BUCKETS)
    WRITER_COMMIT_SECONDS = Histogram("medsettle_writer_commit_seconds", "Group-commit transaction, fsync included",
                                      buckets=LATENCY_BUCKETS_S)
    STORE_MAP_USED_RATIO = Gauge("medsettle_store_map_used_ratio", "Share of the LMDB map the store file reaches",
                                 multiprocess_mode="max")
    STORE_FULL = Gauge("medsettle_store_full", "1 while writes fail because the LMDB map is full",
                       multiprocess_mode="max")
    PREPAID_USAGE_BP = Gauge("medsettle_prepaid_usage_bp", "Prepaid fund usage (drawn / funded), basis points",
                             ["province"], multiprocess_mode="mostrecent")


def serve_http(listen: str) -> None:
    """The /metrics endpoint of every worker's values, on a daemon thread of this process."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    host, _, port = listen.rpartition(":")
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    start_http_server(int(port), addr=host.strip("[]") or "0.0.0.0", registry=registry)


def worker_gone(pid: int) -> None:
    """A worker died: its live gauges no longer count."""
    if enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def cleanup(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)
