"""The process-wide caches: bounded, and out of the cyclic collector's sight once a process has frozen its startup
objects."""

from __future__ import annotations

import subprocess
import sys

from medsettle.process_cache import ProcessCache

# In a fresh interpreter: freezing is process-wide, and pytest's own objects would be frozen with the test's.
_PROGRAM = """
import gc
from medsettle.cyclic_collector import freeze_startup_objects
from medsettle.process_cache import ProcessCache
from medsettle.store import supervision_book, view
from medsettle.service import identity, settlement_convert
from medsettle.service import writer_process  # noqa: F401 - what the writer process imports before it freezes

plain = {}
caches = {"plain": plain, "reference_rows": view._reference_rows,
          "distributions": supervision_book._distribution_cache, "rules": supervision_book._rules_cache,
          "rule_sets": supervision_book._in_force_cache, "callers": identity._parsed,
          "codes": settlement_convert._codes_ok, "fresh": ProcessCache(10)}
freeze_startup_objects()
for name, cache in caches.items():
    key = tuple(str(n) for n in range(2))  # made at run time: tracked, as every cache key is
    cache[key] = (1.0, None)
    walked = any(o is cache for o in gc.get_objects())  # the permanent generation is not listed
    print(name, gc.is_tracked(cache), walked)
"""


def test_the_caches_are_frozen_with_the_startup_objects_and_never_walked_by_a_collection():
    done = subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = dict((line.split()[0], line.split()[1:]) for line in done.stdout.splitlines())
    # An exact dict empty at the freeze is not tracked then, so it is not frozen: its first key puts it in the young
    # generation, and every full collection walks it from then on (8 ms for ~92,000 entries).
    assert rows["plain"] == ["True", "True"]
    for name in ("reference_rows", "distributions", "rules", "rule_sets", "callers", "codes", "fresh"):
        assert rows[name] == ["True", "False"], name  # tracked, and frozen: never walked


def test_a_full_cache_is_emptied_before_it_remembers_more():
    cache = ProcessCache(2)
    assert cache.remember("a", 1) == 1 and cache.remember("b", 2) == 2 and dict(cache) == {"a": 1, "b": 2}
    assert cache.remember("c", 3) == 3 and dict(cache) == {"c": 3}  # bounded: what is used again comes back
    assert cache.get("a") is None
