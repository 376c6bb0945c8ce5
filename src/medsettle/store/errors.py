"""What a store raises that its callers act on, whichever backend (LMDB or PostgreSQL) is under it."""

from __future__ import annotations


class StoreLayoutError(RuntimeError):
    """The store was written with another key layout: re-seed or migrate it."""


class StoreMissing(RuntimeError):
    """The location holds no store and creating one was not asked for."""

    def __init__(self, path: str, holds: str = "") -> None:
        super().__init__(f"{path} holds no medsettle store{f' (no {holds})' if holds else ''}; give --create to make "
                         f"a new one")


class StoreFull(RuntimeError):
    """The store cannot grow (LMDB: its map is full; PostgreSQL: its disk): nothing of the write happened."""

    def __init__(self, path: str, why: str = "its map size is reached") -> None:
        super().__init__(f"the store at {path} is full ({why})")


class StoreUnavailable(RuntimeError):
    """The store cannot be reached now (PostgreSQL: the connection broke, the primary is changing over). Nothing of
    the transaction happened: it never reached its COMMIT."""


class CommitUnknown(StoreUnavailable):
    """The COMMIT was sent and its outcome is unknown (the connection broke while waiting for it, or the synchronous
    standby did not confirm it). Never answered as "not done": a retry with the same request id finds the request
    record, or does it once."""


class StoreFailed(RuntimeError):
    """The database refused a statement for a reason that is not the caller's (a defect, a broken schema): the whole
    transaction is rolled back."""
