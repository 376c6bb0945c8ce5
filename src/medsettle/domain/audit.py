"""Audit rules at settlement (就医地管理, DOMAIN.md 9): a pure function from a claim, its computed settlement and the
bounded indexes the settlements keep (the person's recent visits and stays, the amount distributions) to the rules
it hits. A BLOCK hit refuses the settlement (AUDIT_RULE_BLOCKED, naming the rule and the lines; nothing written);
a FLAG hit lets it through, is recorded as a flag for joint review in the settlement's own transaction and is
named in its explanation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from medsettle.domain import amount_sketch, audit_rules, catalog_split, codes, dates, reasons
from medsettle.domain.amount_sketch import Distribution
from medsettle.domain.audit_rules import AuditRule
from medsettle.domain.flags import Evidence
from medsettle.domain.money import format_fen
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import CatalogItem, Claim, ExplanationStep, Record, Settlement, Stay

EVIDENCE_MAX = 10  # other visits or stays named per hit
LINES_NAMED_MAX = 200  # fee lines a flag keeps (the amount covers them all)
DRUG_LIST_TYPE_PREFIX = "1"  # list_type 101/102/103: western, patent and herbal drugs

EVIDENCE_SETTLEMENT = "SETTLEMENT"
EVIDENCE_STAY = "STAY"
EVIDENCE_DISTRIBUTION = "DISTRIBUTION"


class VisitMark(Record, kw_only=True):
    """An outpatient settlement in force, as the person's day record keeps it."""

    setl_id: str
    fixmedins_code: str
    med_type: str
    items: tuple[str, ...] = ()  # distinct med_list_codg of its lines


class PersonDay(Record, kw_only=True):
    """The outpatient settlements of one person on one settlement date (the per-person index of the rules)."""

    visits: tuple[VisitMark, ...] = ()


class Hit(Record, kw_only=True):
    """A rule a settlement hits: which lines, how much, and the evidence."""

    rule: AuditRule
    feedetl_sns: tuple[str, ...] = ()  # () = the settlement as a whole
    amount_fen: int
    evidence: tuple[Evidence, ...] = ()
    zh: str
    en: str


class AuditInput(msgspec.Struct, frozen=True, kw_only=True):
    """What the rules read: the claim and its computed settlement from the same snapshot, and the bounded indexes."""

    claim: Claim
    settlement: Settlement
    items_by_sn: Mapping[str, CatalogItem | None]
    rules: tuple[AuditRule, ...]
    days: Mapping[str, PersonDay] = {}  # settlement date -> the person's outpatient visits that day (lookback)
    open_stays: tuple[Stay, ...] = ()  # outpatient: the person's open stays
    stay: Stay | None = None  # inpatient: the stay being settled
    other_stays: tuple[Stay, ...] = ()  # inpatient: the person's other stays of the lookback window
    item_sketches: Mapping[str, Distribution] = {}  # med_list_codg -> line amounts of the window, on the claim's day
    visit_sketch: Distribution | None = None  # the institution's settlement amounts, this clearing type, likewise


# What a rule kind reads beyond the claim: the store reads only what the rules in force need.
READS_DAYS = frozenset({audit_rules.DUPLICATE_SAME_DAY, audit_rules.VISIT_FREQUENCY})
READS_OPEN_STAYS = frozenset({audit_rules.OUTPATIENT_DURING_STAY})
READS_OTHER_STAYS = frozenset({audit_rules.OVERLAPPING_STAYS})
READS_ITEM_SKETCHES = frozenset({audit_rules.LINE_AMOUNT_OUTLIER})
READS_VISIT_SKETCH = frozenset({audit_rules.VISIT_AMOUNT_OUTLIER})


def lookback_days(rules: Sequence[AuditRule]) -> int:
    """How many days of the person's visits the rules in force read (at most LOOKBACK_DAYS_MAX)."""
    days = [rule.days if rule.kind == audit_rules.VISIT_FREQUENCY else 1 for rule in rules if rule.kind in READS_DAYS]
    return min(max(days, default=0), audit_rules.LOOKBACK_DAYS_MAX)


def samples_min_floor(rules: Sequence[AuditRule], kind: str) -> int:
    """The fewest amounts any rule of `kind` asks a window for: a window with fewer is thin for all of them."""
    return min([rule.samples_min for rule in rules if rule.kind == kind], default=0)


def _line_hit(rule: AuditRule, claim: Claim, picked: list[int], zh: str, en: str,
              evidence: tuple[Evidence, ...] = ()) -> Hit | None:
    if not picked:
        return None
    lines = [claim.lines[i] for i in picked]
    return Hit(rule=rule, feedetl_sns=tuple(line.feedetl_sn for line in lines[:LINES_NAMED_MAX]),
               amount_fen=sum(line.det_item_fee_sumamt_fen for line in lines), evidence=evidence[:EVIDENCE_MAX],
               zh=zh, en=en)


def _duplicate_in_visit(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    seen: set[tuple[str, str]] = set()
    repeated: list[int] = []
    for index, line in enumerate(inputs.claim.lines):
        if not rule.watches(line.med_list_codg):
            continue
        day_item = (line.med_list_codg, line.fee_ocur_date)
        if day_item in seen:
            repeated.append(index)
        seen.add(day_item)
    return _line_hit(rule, inputs.claim, repeated, f"同一项目同日重复收费{len(repeated)}条",
                     f"{len(repeated)} lines charge an item already charged the same day in this claim")


def _duplicate_same_day(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    claim = inputs.claim
    day = inputs.days.get(claim.setl_date, PersonDay())
    elsewhere = {}
    for visit in day.visits:
        if visit.fixmedins_code != claim.fixmedins_code:
            for item in visit.items:
                elsewhere.setdefault(item, visit)
    picked = [i for i, line in enumerate(claim.lines)
              if line.med_list_codg in elsewhere and rule.watches(line.med_list_codg)]
    others = {elsewhere[claim.lines[i].med_list_codg].setl_id: elsewhere[claim.lines[i].med_list_codg]
              for i in picked}
    evidence = tuple(Evidence(kind=EVIDENCE_SETTLEMENT, ref=setl_id, detail=visit.fixmedins_code)
                     for setl_id, visit in sorted(others.items()))
    return _line_hit(rule, claim, picked, f"同日已在其他机构结算相同项目{len(picked)}条",
                     f"{len(picked)} lines charge items settled the same day at another institution", evidence)


def _outpatient_during_stay(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    # The admission day is left out: an outpatient visit that ends in admission the same day is ordinary.
    stays = [s for s in inputs.open_stays if not s.enddate and s.begndate < inputs.claim.setl_date]
    if not stays:
        return None
    evidence = tuple(Evidence(kind=EVIDENCE_STAY, ref=s.mdtrt_id, detail=f"{s.fixmedins_code} {s.begndate}")
                     for s in stays)
    return Hit(rule=rule, amount_fen=inputs.settlement.medfee_sumamt_fen, evidence=evidence[:EVIDENCE_MAX],
               zh=f"住院期间({stays[0].fixmedins_code}自{stays[0].begndate}入院)发生门诊结算",
               en=f"outpatient settlement during an open stay (at {stays[0].fixmedins_code} since {stays[0].begndate})")


def _span(stay: Stay, today: str) -> tuple[str, str]:
    return stay.begndate, stay.enddate or today


def _overlapping_stays(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    stay, today = inputs.stay, inputs.claim.setl_date
    assert stay is not None, "an inpatient claim carries its stay"
    begin, end = _span(stay, today)
    found: list[tuple[Stay, int]] = []
    for other in inputs.other_stays:
        # A stay with nothing charged (an admission undone by 冲正) overlaps nothing.
        if other.mdtrt_id == stay.mdtrt_id or other.fixmedins_code == stay.fixmedins_code or not (
                other.line_count or other.settled_count):
            continue
        other_begin, other_end = _span(other, today)
        first, last = max(begin, other_begin), min(end, other_end)
        if first <= last:
            overlap = dates.days_between(first, last) + 1
            if overlap >= rule.overlap_days_min:
                found.append((other, overlap))
    if not found:
        return None
    other, overlap = found[0]
    evidence = tuple(Evidence(kind=EVIDENCE_STAY, ref=s.mdtrt_id, detail=f"{s.fixmedins_code} {s.begndate}..{s.enddate}"
                              f" overlap {n}d") for s, n in found)
    return Hit(rule=rule, amount_fen=inputs.settlement.medfee_sumamt_fen, evidence=evidence[:EVIDENCE_MAX],
               zh=f"与{other.fixmedins_code}的住院({other.begndate}起)重叠{overlap}天",
               en=f"stay overlaps one at {other.fixmedins_code} (from {other.begndate}) by {overlap} days")


def _visit_frequency(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    claim = inputs.claim
    first_day = dates.add_days(claim.setl_date, 1 - rule.days)
    earlier: dict[str, VisitMark] = {}
    for day, record in inputs.days.items():
        if first_day <= day <= claim.setl_date:
            for visit in record.visits:
                if rule.applies_to(visit.med_type):
                    earlier[visit.setl_id] = visit
    visits = len(earlier) + 1
    if visits <= rule.visits_max:
        return None
    institutions = len({v.fixmedins_code for v in earlier.values()} | {claim.fixmedins_code})
    evidence = tuple(Evidence(kind=EVIDENCE_SETTLEMENT, ref=setl_id, detail=visit.fixmedins_code)
                     for setl_id, visit in sorted(earlier.items(), reverse=True))
    return Hit(rule=rule, amount_fen=inputs.settlement.medfee_sumamt_fen, evidence=evidence[:EVIDENCE_MAX],
               zh=f"{rule.days}天内第{visits}次门诊(涉及{institutions}家机构), 上限{rule.visits_max}次",
               en=f"outpatient visit {visits} within {rule.days} days at {institutions} institutions, "
                  f"at most {rule.visits_max}")


def _chronic_drug_outside_list(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    claim = inputs.claim
    if claim.dise_codg != rule.dise_codg:
        return None
    picked = []
    for index, line in enumerate(claim.lines):
        item = inputs.items_by_sn.get(line.feedetl_sn)
        if (item is not None and item.list_type.startswith(DRUG_LIST_TYPE_PREFIX)
                and not line.med_list_codg.startswith(rule.allowed_prefixes)):
            picked.append(index)
    name_zh, name_en = codes.CHRONIC_DISEASES[rule.dise_codg]
    return _line_hit(rule, claim, picked, f"{len(picked)}条药品不在{name_zh}门诊慢特病用药范围内",
                     f"{len(picked)} drug lines outside the {name_en} drug list")


def _lines_with(rule: AuditRule, inputs: AuditInput, lmt_reasons: frozenset[str]) -> list[int]:
    reason_of = {line.feedetl_sn: line.lmt_reason for line in inputs.settlement.lines}
    return [i for i, line in enumerate(inputs.claim.lines)
            if reason_of.get(line.feedetl_sn) in lmt_reasons and rule.watches(line.med_list_codg)]


def _quantity_over_daily_limit(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    picked = _lines_with(rule, inputs, frozenset({catalog_split.LMT_QUANTITY}))
    return _line_hit(rule, inputs.claim, picked, f"{len(picked)}条超过每日限量",
                     f"{len(picked)} lines over the item's daily quantity limit")


def _restricted_item(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    picked = _lines_with(rule, inputs, frozenset(rule.lmt_reasons or audit_rules.RESTRICTED_ITEM_REASONS_DEFAULT))
    return _line_hit(rule, inputs.claim, picked, f"{len(picked)}条不符合限定支付条件({','.join(rule.lmt_reasons)})",
                     f"{len(picked)} lines whose restriction is not met ({','.join(rule.lmt_reasons)})")


def _outlier_threshold(rule: AuditRule, dist: Distribution | None, amount_fen: int) -> int:
    """The amount above which `amount_fen` is far out in `dist`; 0 when it surely is not: no window, a window too thin
    to judge (fewer than samples_min amounts: asked first, so most windows of a catalog's items are never searched),
    or the amount not above the quantile's bucket."""
    if dist is None or dist.total < rule.samples_min or \
            not amount_sketch.may_exceed_quantile(dist, rule.quantile_bp, amount_fen):
        return 0
    return amount_sketch.threshold_fen(amount_sketch.quantile_upper_fen(dist, rule.quantile_bp)[1], rule.factor_bp)


def _line_amount_outlier(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    largest: dict[str, int] = {}  # per watched item, its largest line: only it can tell whether any is out
    for line in inputs.claim.lines:
        code = line.med_list_codg
        if rule.watches(code) and line.det_item_fee_sumamt_fen > largest.get(code, -1):
            largest[code] = line.det_item_fee_sumamt_fen
    thresholds = {code: _outlier_threshold(rule, inputs.item_sketches.get(code), amount_fen)
                  for code, amount_fen in largest.items()}
    picked, evidence = [], []
    for index, line in enumerate(inputs.claim.lines):
        code = line.med_list_codg
        threshold = thresholds.get(code, 0)
        if threshold and line.det_item_fee_sumamt_fen > threshold:  # in thresholds: watched
            picked.append(index)
            samples = inputs.item_sketches[code].total
            evidence.append(Evidence(kind=EVIDENCE_DISTRIBUTION, ref=code,
                                     detail=f"p{rule.quantile_bp} x{rule.factor_bp}bp = {threshold} fen of {samples}"))
    return _line_hit(rule, inputs.claim, picked, f"{len(picked)}条金额远高于该项目近90天分布",
                     f"{len(picked)} lines far above the item's distribution of the last 90 days", tuple(evidence))


def _visit_amount_outlier(rule: AuditRule, inputs: AuditInput) -> Hit | None:
    amount = inputs.settlement.medfee_sumamt_fen
    dist = inputs.visit_sketch
    threshold = _outlier_threshold(rule, dist, amount)
    if not threshold or amount <= threshold:
        return None
    evidence = (Evidence(kind=EVIDENCE_DISTRIBUTION, ref=f"{inputs.claim.fixmedins_code}/{inputs.settlement.clr_type}",
                         detail=f"p{rule.quantile_bp} x{rule.factor_bp}bp = {threshold} fen of {dist.total}"),)
    return Hit(rule=rule, amount_fen=amount, evidence=evidence,
               zh=f"本次费用{format_fen(amount)}元远高于本机构近90天分布(阈值{format_fen(threshold)}元)",
               en=f"total {format_fen(amount)} yuan far above the institution's last 90 days "
                  f"(threshold {format_fen(threshold)})")


_CHECKS = {
    audit_rules.DUPLICATE_IN_VISIT: _duplicate_in_visit,
    audit_rules.DUPLICATE_SAME_DAY: _duplicate_same_day,
    audit_rules.OUTPATIENT_DURING_STAY: _outpatient_during_stay,
    audit_rules.OVERLAPPING_STAYS: _overlapping_stays,
    audit_rules.VISIT_FREQUENCY: _visit_frequency,
    audit_rules.CHRONIC_DRUG_OUTSIDE_LIST: _chronic_drug_outside_list,
    audit_rules.QUANTITY_OVER_DAILY_LIMIT: _quantity_over_daily_limit,
    audit_rules.RESTRICTED_ITEM: _restricted_item,
    audit_rules.LINE_AMOUNT_OUTLIER: _line_amount_outlier,
    audit_rules.VISIT_AMOUNT_OUTLIER: _visit_amount_outlier,
}
assert set(_CHECKS) == audit_rules.KINDS


def evaluate(inputs: AuditInput) -> tuple[Hit, ...]:
    """Every rule in force that the settlement hits, in rule order (the store gives them sorted)."""
    hits = []
    for rule in inputs.rules:
        assert rule.active, rule.rule_id
        if rule.applies_to(inputs.claim.med_type):
            hit = _CHECKS[rule.kind](rule, inputs)
            if hit is not None:
                assert hit.amount_fen >= 0
                hits.append(hit)
    return tuple(hits)


def refusal_of(hits: Sequence[Hit], claim: Claim) -> Refusal | None:
    """AUDIT_RULE_BLOCKED for every BLOCK hit, one reason per line it names (or one for the settlement as a whole),
    each naming the rule; None when no rule blocks."""
    index_of = {line.feedetl_sn: i for i, line in enumerate(claim.lines)}
    refusals = []
    for hit in hits:
        if hit.rule.severity != audit_rules.SEVERITY_BLOCK:
            continue
        detail = f"{hit.rule.rule_id}: {hit.en}"
        if not hit.feedetl_sns:
            refusals.append(Refusal(reasons.AUDIT_RULE_BLOCKED, detail=detail))
        for sn in hit.feedetl_sns:
            refusals.append(Refusal(reasons.AUDIT_RULE_BLOCKED, field=f"fee_lines[{index_of[sn]}]", feedetl_sn=sn,
                                    detail=detail))
    return Refusal.of_all(refusals) if refusals else None


def flags_of(hits: Sequence[Hit]) -> tuple[Hit, ...]:
    return tuple(hit for hit in hits if hit.rule.severity == audit_rules.SEVERITY_FLAG)


def explained(setl: Settlement, flagged: Sequence[Hit]) -> Settlement:
    """The settlement with one AUDIT_FLAG step per rule it passed through with a flag."""
    if not flagged:
        return setl
    steps = tuple(ExplanationStep(
        code="AUDIT_FLAG",
        zh=f"审核规则{hit.rule.label}提示: {hit.zh}; 已转联审互查",
        en=f"audit rule {hit.rule.rule_id} flagged: {hit.en}; sent to joint review",
        amount_fen=hit.amount_fen) for hit in flagged)
    return msgspec.structs.replace(setl, explanation=setl.explanation + steps)
