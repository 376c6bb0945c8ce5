"""The shard map: which shard owns which insured provinces (参保地).

A person's filings, accumulators, stays and settlements live on the shard of their insured province; reference data
(catalogs, institutions, policies, audit rules) and the credential directory are on every shard. The map is data,
one JSON document shared by the shards (each refuses what is not its own), the proxy's configuration generated from
it, and the tools that push to every shard or gather from every shard:

    {"shards": [{"name": "shard-0", "address": "127.0.0.1:50061", "provinces": ["110000", "120000", ...]}, ...]}

Every one of the 32 provincial units is owned by exactly one shard, so that no insured place is left unroutable.
A shard's position in the map is part of every id it hands out (store/view.py, next_id): a new shard is added at the
end, and shards are never reordered.
"""

from __future__ import annotations

import re

import msgspec

from medsettle.domain import region

SHARDS_MAX = 32  # one per provincial unit at most
NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,30}")  # a DNS label: it names a Kubernetes StatefulSet and an Envoy cluster
ADDRESS_CHARS_MAX = 253


class Shard(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    provinces: tuple[str, ...]
    address: str = ""  # host:port where the proxy reaches it; "" when a deployment names it otherwise (Kubernetes)


class ShardMap(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    shards: tuple[Shard, ...]

    def owner_of(self, province: str) -> Shard:
        """The shard that owns `province` (xx0000)."""
        assert region.is_province(province), province
        return next(shard for shard in self.shards if province in shard.provinces)

    def shard(self, name: str) -> Shard | None:
        return next((shard for shard in self.shards if shard.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(shard.name for shard in self.shards)


class ShardMapError(ValueError):
    """A shard map that cannot be used: one line saying what is wrong."""


def check(shard_map: ShardMap) -> ShardMap:
    """Refuse a map that would leave a province unowned, owned twice, or a shard unnamed or empty."""
    if not 1 <= len(shard_map.shards) <= SHARDS_MAX:
        raise ShardMapError(f"a shard map has 1 to {SHARDS_MAX} shards, not {len(shard_map.shards)}")
    owners: dict[str, str] = {}
    for shard in shard_map.shards:
        if not NAME_RE.fullmatch(shard.name):
            raise ShardMapError(f"shard name {shard.name!r}: lower-case letters, digits and '-', at most 31")
        if not shard.provinces:
            raise ShardMapError(f"{shard.name} owns no province")
        if len(shard.address) > ADDRESS_CHARS_MAX:
            raise ShardMapError(f"{shard.name}: address longer than {ADDRESS_CHARS_MAX} characters")
        for province in shard.provinces:
            if not region.is_province(province):
                raise ShardMapError(f"{shard.name}: {province!r} is not one of the 32 provincial units (xx0000)")
            if province in owners:
                raise ShardMapError(f"{province} is owned by both {owners[province]} and {shard.name}")
            owners[province] = shard.name
    if len(set(shard_map.names)) != len(shard_map.shards):
        raise ShardMapError("two shards share a name")
    unowned = sorted(set(region.PROVINCES) - owners.keys())
    if unowned:
        raise ShardMapError(f"no shard owns {', '.join(unowned)}: every province needs an owner")
    return shard_map


def parse(raw: bytes) -> ShardMap:
    try:
        shard_map = msgspec.json.decode(raw, type=ShardMap)
    except msgspec.ValidationError as error:
        raise ShardMapError(f"not a shard map: {error}") from None
    except msgspec.DecodeError as error:
        raise ShardMapError(f"not JSON: {error}") from None
    return check(shard_map)


def encode(shard_map: ShardMap) -> bytes:
    return msgspec.json.format(msgspec.json.encode(check(shard_map)), indent=2) + b"\n"


def split(shard_count: int, addresses: tuple[str, ...] = ()) -> ShardMap:
    """`shard_count` shards, each a run of neighbouring province codes (north, north-east, east, ...), as equal in
    number as 32 allows. `addresses`: one per shard, or none."""
    if not 1 <= shard_count <= SHARDS_MAX:
        raise ShardMapError(f"--shards is 1 to {SHARDS_MAX}, not {shard_count}")
    assert not addresses or len(addresses) == shard_count
    provinces = sorted(region.PROVINCES)
    size, extra = divmod(len(provinces), shard_count)
    shards, start = [], 0
    for index in range(shard_count):
        end = start + size + (1 if index < extra else 0)
        shards.append(Shard(name=f"shard-{index}", provinces=tuple(provinces[start:end]),
                            address=addresses[index] if addresses else ""))
        start = end
    return check(ShardMap(shards=tuple(shards)))


def owner_of_regions(shard_map: ShardMap, insured_regions: tuple[str, ...]) -> Shard | None:
    """The shard that owns every one of a person's insured places; None when they lie on two shards (a person is
    kept whole on one shard: their accumulators and filings must never be split)."""
    owners = {shard_map.owner_of(region.province_of(admdvs)).name for admdvs in insured_regions}
    return shard_map.shard(owners.pop()) if len(owners) == 1 else None
