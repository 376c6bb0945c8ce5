"""Write the demo nation (nation.generate) and its audit rules (rules.generate) into a store, in large durable
transactions, with a progress bar and a summary of counts per keyspace.

A shard of a sharded deployment gets every record of reference data, and of the persons only its own insured (with
their filings and qualifications); the others go into its credential directory (domain/shards.py)."""

from __future__ import annotations

import sys
from collections import Counter

from tqdm import tqdm

from medsettle.demo import nation as demo_nation
from medsettle.demo import rules as demo_rules
from medsettle.domain import region, shards
from medsettle.store.env import Store
from medsettle.store.view import directory_entry_of

RECORDS_PER_TXN = 50_000  # bounds the dirty pages of one transaction


def _writers(view, shard: tuple[shards.ShardMap, str] | None) -> dict:
    """How each kind of generated record is written, in one transaction; on a shard, what is another shard's is
    left out (filings, qualifications) or kept in the directory (persons)."""
    writers = {
        "insured_place": view.put_insured_place,
        "policy": view.put_policy,
        "institution": view.put_institution,
        "catalog_item": lambda entry: view.put_catalog_item(entry.province, entry.item),
        "person": view.put_person,
        "filing": view.put_filing,
        "qualification": view.put_qualification,
    }
    if shard is None:
        return writers
    shard_map, name = shard

    def own(insured_regions) -> bool:
        return shards.owner_of_regions(shard_map, tuple(insured_regions)).name == name

    def person(record) -> str:
        if own(line.insuplc_admdvs for line in record.insu_lines):
            view.put_person(record)
            return "person"
        view.put_directory_entry(directory_entry_of(record, region.province_of(record.insu_lines[0].insuplc_admdvs)))
        return "directory"

    def insured_here(put):
        return lambda record: put(record) if own((record.insuplc_admdvs,)) else "elsewhere"

    return {**writers, "person": person, "filing": insured_here(view.put_filing),
            "qualification": insured_here(view.put_qualification)}


def seed(store: Store, *, seed: int, items_per_province: int, persons_per_province: int, today: str,
         progress: bool = True, audit_rules: bool = True,
         shard: tuple[shards.ShardMap, str] | None = None) -> dict[str, int]:
    """Fill `store` with the demo nation (and, unless told not to, its audit rules); returns the number of records
    written per kind. `shard`: the store is this shard of the map."""
    planned = demo_nation.plan_counts(items_per_province, persons_per_province)
    written: Counter[str] = Counter()
    records = demo_nation.generate(seed=seed, items_per_province=items_per_province,
                                   persons_per_province=persons_per_province, today=today)
    bar = tqdm(total=sum(planned.values()), unit="rec", unit_scale=True, desc="seeding demo nation",
               disable=not progress, file=sys.stderr, mininterval=0.5)
    done = False
    while not done:
        with store.write() as view:
            writers = _writers(view, shard)
            batch = 0
            for kind, record in records:
                written[writers[kind](record) or kind] += 1
                batch += 1
                if batch >= RECORDS_PER_TXN:
                    break
            else:
                done = True
        bar.update(batch)
    bar.close()
    assert shard is not None or dict(written) == {k: v for k, v in planned.items() if v}, (dict(written), planned)
    written.pop("elsewhere", None)
    if audit_rules:
        rules = demo_rules.generate(seed)
        with store.write() as view:
            for rule in rules:
                view.put_audit_rule(rule)
        written["audit_rule"] = len(rules)
    return dict(written)
