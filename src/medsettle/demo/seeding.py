"""Write the demo nation (nation.generate) and its audit rules (rules.generate) into a store, in large durable
transactions, with a progress bar and a summary of counts per keyspace."""

from __future__ import annotations

import os
import sys
from collections import Counter

from tqdm import tqdm

from medsettle.demo import nation as demo_nation
from medsettle.demo import rules as demo_rules
from medsettle.store.env import Store

RECORDS_PER_TXN = 50_000  # bounds the dirty pages of one transaction


def _writers(view) -> dict:
    """How each kind of generated record is written, in one transaction."""
    return {
        "insured_place": view.put_insured_place,
        "policy": view.put_policy,
        "institution": view.put_institution,
        "catalog_item": lambda entry: view.put_catalog_item(entry.province, entry.item),
        "person": view.put_person,
        "filing": view.put_filing,
        "qualification": view.put_qualification,
    }


def seed(store: Store, *, seed: int, items_per_province: int, persons_per_province: int, today: str,
         progress: bool = True, audit_rules: bool = True) -> dict[str, int]:
    """Fill `store` with the demo nation (and, unless told not to, its audit rules); returns the number of records
    written per kind."""
    planned = demo_nation.plan_counts(items_per_province, persons_per_province)
    written: Counter[str] = Counter()
    records = demo_nation.generate(seed=seed, items_per_province=items_per_province,
                                   persons_per_province=persons_per_province, today=today)
    bar = tqdm(total=sum(planned.values()), unit="rec", unit_scale=True, desc="seeding demo nation",
               disable=not progress, file=sys.stderr, mininterval=0.5)
    done = False
    while not done:
        with store.write() as view:
            writers = _writers(view)
            batch = 0
            for kind, record in records:
                writers[kind](record)
                written[kind] += 1
                batch += 1
                if batch >= RECORDS_PER_TXN:
                    break
            else:
                done = True
        bar.update(batch)
    bar.close()
    assert dict(written) == {k: v for k, v in planned.items() if v}, (dict(written), planned)
    if audit_rules:
        rules = demo_rules.generate(seed)
        with store.write() as view:
            token = os.urandom(8).hex()  # the rule caches' key: new for every write
            for rule in rules:
                view.put_audit_rule(rule, token)
        written["audit_rule"] = len(rules)
    return dict(written)
