"""One JSON line per event on stderr. Person names and ID numbers never appear unmasked."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

MASKED_FIELDS = frozenset({"certno", "psn_name", "mdtrt_cert_no", "card_no", "evoucher_token", "card_sn"})


def mask(value: str) -> str:
    """Keep the first and last characters that identify nothing on their own: 110105********1234 -> 1101**...34."""
    if len(value) <= 2:
        return "*" * len(value)
    if len(value) <= 6:
        return value[0] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def event(name: str, **fields: Any) -> None:
    record = {"ts_ms": time.time_ns() // 1_000_000, "pid": os.getpid(), "event": name}  # pid: which worker
    for field, value in fields.items():
        record[field] = mask(value) if field in MASKED_FIELDS and isinstance(value, str) else value
    sys.stderr.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
