"""Python's cyclic collector in a long-lived process: what the process made while starting is frozen once."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Move every object the process has made so far (modules, classes, protobuf descriptors, gRPC's and the store's
    objects: ~50,000 in a worker, ~31,000 in its writer process, all living as long as the process) out of the cyclic
    collector's sight; returns how many.

    A full collection walked them all each time: ~15 ms with a worker's event loop stopped, every 10-20 s at 500
    settlements/s, the longest stalls of the loop and the settlements' slowest 0.1%; ~9 ms with the writer process
    and every write given to it waiting (bench/RESULTS.md, "the collector's pauses"). Garbage is collected first, so
    none is kept; a frozen object is still freed when nothing refers to it any more (only a reference cycle among
    frozen objects would stay); objects made later are collected as before."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
