"""Who can settle where today, from a deployment's own store, for load testers (`medsettle bench export-visits`).

A load test of a running deployment (bench/mix.sh TARGET=...) needs requests that the deployment accepts: insured
persons with a filing in force, an institution their filing covers where the benefit check (2001) says OK today, and
fee lines the catalog of the place of treatment prices. This command reads them from the data directory (a read
snapshot: safe while the deployment serves) and writes one JSON file:

    {"format": 1, "today": "YYYY-MM-DD", "outpatient": [visit, ...], "inpatient": [visit, ...]}
    visit = {"psn_no", "fixmedins_code", "province" (of treatment), "insuplc_admdvs" (the person's insured place),
             "lines": [[med_list_codg, cnt, pric, det_item_fee_sumamt (fen)], ...]}

The lines of a province are the first LINES_PER_VISIT unrestricted class A/B items with a price ceiling in force
today, in code order, priced at their ceiling (at most 50 yuan). A person is in one of the two lists only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

FORMAT = 1
LINES_PER_VISIT = 10
LINE_PRICE_FEN_MAX = 5_000  # a bench line costs at most 50 yuan: no cap or outlier rule is what is measured
CATALOG_ITEMS_READ_MAX = 100_000  # of one province, looking for priced unrestricted items
MED_TYPE_OUTPATIENT, MED_TYPE_INPATIENT = "11", "21"


@dataclass(frozen=True)
class Visit:
    """A person who can settle directly at an institution today, with fee lines priced for its province."""

    psn_no: str
    fixmedins_code: str
    province: str  # of treatment
    insuplc_admdvs: str  # the person's insured place: what a sharded deployment routes by (x-insuplc-admdvs)
    lines: tuple[tuple[str, str, str, int], ...]  # (med_list_codg, cnt, pric, det_item_fee_sumamt in fen)

    @classmethod
    def of(cls, row: dict) -> Visit:
        return cls(row["psn_no"], row["fixmedins_code"], row["province"], row["insuplc_admdvs"],
                   tuple(tuple(line) for line in row["lines"]))


def province_lines(view, province: str, today: str) -> tuple[tuple[str, str, str, int], ...]:
    """LINES_PER_VISIT unrestricted, priced class A/B items of a province's catalog in force today: the first of
    each list type in code order, in turn (drugs, services and materials alike, as a real bill has them)."""
    from medsettle.domain import codes

    per_type = -(-LINES_PER_VISIT // len(codes.LIST_TYPES))
    chosen: dict[str, list[tuple[str, str, str, int]]] = {list_type: [] for list_type in codes.LIST_TYPES}
    for list_type, line in billable_lines(view, province, today):
        if sum(len(found) for found in chosen.values()) >= LINES_PER_VISIT:
            break
        if len(chosen.get(list_type, ())) < per_type:
            chosen[list_type].append(line)
    return tuple(line for found in chosen.values() for line in found)[:LINES_PER_VISIT]


def billable_lines(view, province: str, today: str) -> Iterator[tuple[str, tuple[str, str, str, int]]]:
    """(list type, line) for the unrestricted, priced class A/B items of a province's catalog in force today, in code
    order (at most CATALOG_ITEMS_READ_MAX items read): one unit each, priced at the ceiling (at most 50 yuan)."""
    from medsettle.domain import codes, money

    for read, code in enumerate(view.catalog_codes(province)):
        if read >= CATALOG_ITEMS_READ_MAX:
            return
        item = view.catalog_item(province, code, today)  # the version in force today, if any
        if item is None or item.restricted or item.chrgitm_lv not in (codes.CLASS_A, codes.CLASS_B):
            continue
        if not item.pric_uplmt_amt_fen:
            continue
        price_fen = min(item.pric_uplmt_amt_fen, LINE_PRICE_FEN_MAX)
        pric = f"{price_fen // 100}.{price_fen % 100:02d}"
        amount = money.line_amount_fen(money.parse_decimal("1", 4), money.parse_decimal(pric, 6))
        yield item.list_type, (code, "1", pric, amount)


def visits(view, med_type: str, today: str, count_max: int, skip: frozenset[str] = frozenset()) -> Iterator[Visit]:
    """Up to `count_max` persons (not in `skip`) who can settle `med_type` today, each at the first institution of
    their filing's place of treatment where the benefit check says OK."""
    from medsettle.domain import region
    from medsettle.domain.records import Institution
    from medsettle.service import lookups

    by_province: dict[str, list[Institution]] = {}
    for institution in view.all_institutions():
        if region.is_known(institution.admdvs):
            by_province.setdefault(region.province_of(institution.admdvs), []).append(institution)
    lines_of: dict[str, tuple] = {}
    found = 0
    for person in view.all_persons():
        if found >= count_max:
            return
        if person.psn_no in skip or not person.insu_lines:
            continue
        filings = [f for f in view.filings(person.psn_no) if not f.revoked_date]
        if not filings:
            continue
        target = filings[-1].mdtrtarea_admvs
        province = region.province_of(target)
        within = target[:2] if region.is_province(target) else target[:4]
        if province not in lines_of:
            lines_of[province] = province_lines(view, province, today)
        if len(lines_of[province]) < LINES_PER_VISIT:
            continue  # a catalog without enough priced items: nothing to bill
        line = person.insu_lines[0]
        for institution in by_province.get(province, ()):
            if not institution.admdvs.startswith(within):
                continue
            answer = lookups.benefit(view, person, line.insutype, institution, med_type, today, "", "")
            if answer.ok:
                found += 1
                yield Visit(person.psn_no, institution.fixmedins_code, province, line.insuplc_admdvs,
                            lines_of[province])
                break


def export(store, today: str, outpatient_max: int, inpatient_max: int) -> dict:
    """The export of a store (one read snapshot) as a JSON-able dict (format FORMAT)."""
    with store.read() as view:
        inpatient = list(visits(view, MED_TYPE_INPATIENT, today, inpatient_max))
        taken = frozenset(v.psn_no for v in inpatient)
        outpatient = list(visits(view, MED_TYPE_OUTPATIENT, today, outpatient_max, skip=taken))
    return document(today, outpatient, inpatient)


def document(today: str, outpatient: list[Visit], inpatient: list[Visit]) -> dict:
    """An export's JSON-able dict (format FORMAT): what `read` reads back."""
    return {"format": FORMAT, "today": today, "outpatient": [asdict(v) for v in outpatient],
            "inpatient": [asdict(v) for v in inpatient]}


def read(path: str | Path) -> tuple[str, list[Visit], list[Visit]]:
    """(today, outpatient, inpatient) of an export file."""
    document = json.loads(Path(path).read_text())
    if document.get("format") != FORMAT:
        raise ValueError(f"{path}: not a visits export of format {FORMAT} (medsettle bench export-visits)")
    return (document["today"], [Visit.of(v) for v in document["outpatient"]],
            [Visit.of(v) for v in document["inpatient"]])
