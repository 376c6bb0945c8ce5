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


class CacheDict(dict):
    """A process-wide cache that freeze_startup_objects takes out of the collector's sight, however large it grows.

    An exact dict starts untracked while empty, so the startup freeze passes it by; its first runtime tuple key makes
    it tracked, and from then on every full collection walks all its entries and scans them once more to untrack it:
    8.2 ms for the ~92,000 catalog versions and distributions a writer process held after a pass of 5,000 items a
    province, and the worker's event loop stopped 3-6 ms every ~7.5 s in the mix (bench/RESULTS.md, issue 15). A
    subclass is tracked from birth and never untracked (the collector untracks exact dicts only), so the freeze takes
    it for good. What it holds is collected as before: a frozen referrer counts as a reference from outside."""

    __slots__ = ()

