"""Audit rules (审核规则) of 就医地管理, DOMAIN.md 9: data, not code.

A rule belongs to a province in one of two roles: the place of treatment audits every cross-province settlement
treated there (role "1"), the insured place audits the settlements of its own insured wherever they are treated
(role "2"). It has a kind, the parameters of that kind and a severity: BLOCK refuses the settlement
(AUDIT_RULE_BLOCKED, nothing written), FLAG lets it through and records a flag for joint review, OFF is a version
that retires the rule from its begndate. Rules are effective-dated and versioned like catalog items: a push adds a
version from its begndate (domain.versions.place_version), history is kept, and every change is in the audit trail.
"""

from __future__ import annotations

from medsettle.domain import catalog_split, codes, dates, reasons, region
from medsettle.domain.reasons import Refusal
from medsettle.domain.records import OPEN_END, Record, in_period

ROLE_TREATMENT = "1"  # 就医地: applies to settlements treated in the province
ROLE_INSURED = "2"  # 参保地: applies to the province's own insured, treated anywhere
ROLES = frozenset({ROLE_TREATMENT, ROLE_INSURED})

SEVERITY_BLOCK = "BLOCK"
SEVERITY_FLAG = "FLAG"
SEVERITY_OFF = "OFF"  # a version that retires the rule from its begndate on
SEVERITIES = frozenset({SEVERITY_BLOCK, SEVERITY_FLAG, SEVERITY_OFF})

# Kinds (DOMAIN.md 9 and issue 13), with the medical types each can apply to.
DUPLICATE_IN_VISIT = "DUPLICATE_IN_VISIT"  # the same item twice on one fee date of one claim
DUPLICATE_SAME_DAY = "DUPLICATE_SAME_DAY"  # the same item, same person, same day, at another institution
OUTPATIENT_DURING_STAY = "OUTPATIENT_DURING_STAY"  # an outpatient settlement while a stay of the person is open
OVERLAPPING_STAYS = "OVERLAPPING_STAYS"  # two stays of one person at two institutions overlap
VISIT_FREQUENCY = "VISIT_FREQUENCY"  # more than N outpatient visits in M days, across institutions
CHRONIC_DRUG_OUTSIDE_LIST = "CHRONIC_DRUG_OUTSIDE_LIST"  # a drug outside the chronic disease's list
QUANTITY_OVER_DAILY_LIMIT = "QUANTITY_OVER_DAILY_LIMIT"  # a line over the item's daily quantity limit
RESTRICTED_ITEM = "RESTRICTED_ITEM"  # a line whose restriction (sex, age, ...) is not met
LINE_AMOUNT_OUTLIER = "LINE_AMOUNT_OUTLIER"  # a line far above the item's recent distribution
VISIT_AMOUNT_OUTLIER = "VISIT_AMOUNT_OUTLIER"  # a settlement far above the institution's recent distribution

_OUTPATIENT = frozenset(codes.OUTPATIENT_MED_TYPES)
_INPATIENT = frozenset(codes.INPATIENT_MED_TYPES)
KIND_MED_TYPES: dict[str, frozenset[str]] = {
    DUPLICATE_IN_VISIT: codes.MED_TYPES,
    DUPLICATE_SAME_DAY: _OUTPATIENT,
    OUTPATIENT_DURING_STAY: _OUTPATIENT,
    OVERLAPPING_STAYS: _INPATIENT,
    VISIT_FREQUENCY: _OUTPATIENT,
    CHRONIC_DRUG_OUTSIDE_LIST: frozenset({codes.MED_TYPE_CHRONIC_OUTPATIENT}),
    QUANTITY_OVER_DAILY_LIMIT: codes.MED_TYPES,
    RESTRICTED_ITEM: codes.MED_TYPES,
    LINE_AMOUNT_OUTLIER: codes.MED_TYPES,
    VISIT_AMOUNT_OUTLIER: codes.MED_TYPES,
}
KINDS = frozenset(KIND_MED_TYPES)
# Chronic-disease visits (dialysis three times a week) are not what a visit-frequency rule is about unless it says so.
VISIT_FREQUENCY_MED_TYPES_DEFAULT = frozenset({codes.MED_TYPE_GENERAL_OUTPATIENT, codes.MED_TYPE_EMERGENCY_OUTPATIENT})
# The distributions are the place of treatment's: only its rules judge against them.
TREATMENT_ONLY_KINDS = frozenset({LINE_AMOUNT_OUTLIER, VISIT_AMOUNT_OUTLIER})
RESTRICTION_REASONS = frozenset(catalog_split.LMT_REASONS) - {catalog_split.LMT_QUANTITY}
RESTRICTED_ITEM_REASONS_DEFAULT = (catalog_split.LMT_SEX, catalog_split.LMT_AGE)

LOOKBACK_DAYS_MAX = 90  # the per-person history every rule reads reaches this far back, no further
VISITS_MAX_LIMIT = 100
PREFIXES_MAX = 500
PREFIX_CHARS_MAX = 40
RULE_ID_CHARS_MAX = 40
RULE_NAME_CHARS_MAX = 100
QUANTILE_BP_MIN, QUANTILE_BP_MAX = 5_000, 9_999
FACTOR_BP_MIN, FACTOR_BP_MAX = 10_000, 1_000_000
SAMPLES_MIN_MIN, SAMPLES_MIN_MAX = 10, 10_000_000
OVERLAP_DAYS_MAX = 30
RULES_PER_PROVINCE_MAX = 200  # rules in force per province and role: every settlement evaluates them


class AuditRule(Record, kw_only=True):
    """One effective-dated version of an audit rule."""

    rule_id: str  # the owner's own code, e.g. "GD-DUP-01"
    admdvs: str  # owner province, xx0000
    role: str  # ROLE_TREATMENT or ROLE_INSURED
    kind: str
    severity: str
    name: str = ""  # short Chinese name, shown in explanations and reports
    begndate: str
    enddate: str = OPEN_END
    med_types: tuple[str, ...] = ()  # only claims of these medical types; () = every type the kind applies to
    item_prefixes: tuple[str, ...] = ()  # only lines whose med_list_codg starts with one of these; () = all lines
    # CHRONIC_DRUG_OUTSIDE_LIST: the disease and the drug codes (prefixes) on its list.
    dise_codg: str = ""
    allowed_prefixes: tuple[str, ...] = ()
    # VISIT_FREQUENCY: more than visits_max visits within `days` days (this one included).
    visits_max: int = 0
    days: int = 0
    # OVERLAPPING_STAYS: stays overlapping at least this many days (a same-day transfer overlaps one).
    overlap_days_min: int = 0
    # RESTRICTED_ITEM: which unmet restrictions (catalog_split.LMT_*) it is about.
    lmt_reasons: tuple[str, ...] = ()
    # Outliers: above factor x the quantile of the last 90 days, once the distribution holds samples_min amounts.
    quantile_bp: int = 0
    factor_bp: int = 10_000
    samples_min: int = 0

    @property
    def active(self) -> bool:
        return self.severity != SEVERITY_OFF

    def applies_to(self, med_type: str) -> bool:
        if self.med_types:
            return med_type in self.med_types  # checked at push: a subset of the kind's types
        if self.kind == VISIT_FREQUENCY:
            return med_type in VISIT_FREQUENCY_MED_TYPES_DEFAULT
        return med_type in KIND_MED_TYPES[self.kind]

    def watches(self, med_list_codg: str) -> bool:
        return not self.item_prefixes or med_list_codg.startswith(self.item_prefixes)

    @property
    def label(self) -> str:
        return f"{self.rule_id}({self.name})" if self.name else self.rule_id


def in_force(rules, date: str) -> tuple[AuditRule, ...]:
    """The active versions in force on `date` (at most one per rule_id: versions do not overlap)."""
    return tuple(rule for rule in rules if rule.active and in_period(rule.begndate, rule.enddate, date))


def key_of(rule: AuditRule) -> str:
    return f"{rule.admdvs}/{rule.role}/{rule.rule_id}"


def _prefixes(values: tuple[str, ...], field: str) -> None:
    if len(values) > PREFIXES_MAX:
        raise Refusal.invalid(field, f"{len(values)} prefixes, at most {PREFIXES_MAX}")
    for index, value in enumerate(values):
        if not 0 < len(value) <= PREFIX_CHARS_MAX or not value.isascii() or not value.isalnum():
            raise Refusal.invalid(f"{field}[{index}]", f"a code prefix of 1-{PREFIX_CHARS_MAX} letters and digits")


def _within(value: int, low: int, high: int, field: str) -> None:
    if not low <= value <= high:
        raise Refusal.invalid(field, f"{value} is not within {low}..{high}")


def check(rule: AuditRule, field: str) -> None:
    """A rule version that can be stored: every parameter its kind needs, within bounds. Raises Refusal."""
    if not 0 < len(rule.rule_id) <= RULE_ID_CHARS_MAX or not rule.rule_id.isascii() or "\x00" in rule.rule_id:
        raise Refusal.invalid(f"{field}.rule_id", f"1-{RULE_ID_CHARS_MAX} ASCII characters")
    if not region.is_well_formed(rule.admdvs) or not region.is_province(rule.admdvs):
        raise Refusal(reasons.UNKNOWN_REGION, field=f"{field}.admdvs", detail="a rule belongs to a province (xx0000)")
    if rule.role not in ROLES:
        raise Refusal.invalid(f"{field}.role", '"1" place of treatment or "2" insured place')
    if rule.kind not in KINDS:
        raise Refusal.invalid(f"{field}.kind", f"one of {', '.join(sorted(KINDS))}")
    if rule.severity not in SEVERITIES:
        raise Refusal.invalid(f"{field}.severity", "BLOCK, FLAG or OFF")
    if len(rule.name) > RULE_NAME_CHARS_MAX or not rule.name.isprintable():
        raise Refusal.invalid(f"{field}.name", f"at most {RULE_NAME_CHARS_MAX} printable characters")
    if not dates.is_date(rule.begndate):
        raise Refusal.invalid(f"{field}.begndate", "YYYY-MM-DD")
    if rule.enddate and (not dates.is_date(rule.enddate) or rule.enddate < rule.begndate):
        raise Refusal.invalid(f"{field}.enddate", "YYYY-MM-DD, not before begndate, or empty")
    if rule.kind in TREATMENT_ONLY_KINDS and rule.role != ROLE_TREATMENT:
        raise Refusal.invalid(f"{field}.role", "amount outliers are judged by the place of treatment (role 1)")
    for index, med_type in enumerate(rule.med_types):
        if med_type not in KIND_MED_TYPES[rule.kind]:
            raise Refusal.invalid(f"{field}.med_types[{index}]", f"{rule.kind} does not apply to med_type {med_type}")
    _prefixes(rule.item_prefixes, f"{field}.item_prefixes")
    _prefixes(rule.allowed_prefixes, f"{field}.allowed_prefixes")
    kind = rule.kind
    if kind == CHRONIC_DRUG_OUTSIDE_LIST:
        if rule.dise_codg not in codes.CHRONIC_DISEASES:
            raise Refusal.invalid(f"{field}.dise_codg", "a chronic disease code (M03900, M01600, ...)")
        if not rule.allowed_prefixes:
            raise Refusal.invalid(f"{field}.allowed_prefixes", "the codes (prefixes) of the drugs on the list")
    if kind == VISIT_FREQUENCY:
        _within(rule.visits_max, 1, VISITS_MAX_LIMIT, f"{field}.visits_max")
        _within(rule.days, 1, LOOKBACK_DAYS_MAX, f"{field}.days")
    if kind == OVERLAPPING_STAYS:
        _within(rule.overlap_days_min, 1, OVERLAP_DAYS_MAX, f"{field}.overlap_days_min")
    if kind == RESTRICTED_ITEM:
        wrong = [r for r in rule.lmt_reasons if r not in RESTRICTION_REASONS]
        if wrong or not rule.lmt_reasons:
            raise Refusal.invalid(f"{field}.lmt_reasons", f"some of {', '.join(sorted(RESTRICTION_REASONS))}")
    if kind in TREATMENT_ONLY_KINDS:
        _within(rule.quantile_bp, QUANTILE_BP_MIN, QUANTILE_BP_MAX, f"{field}.quantile_bp")
        _within(rule.factor_bp, FACTOR_BP_MIN, FACTOR_BP_MAX, f"{field}.factor_bp")
        _within(rule.samples_min, SAMPLES_MIN_MIN, SAMPLES_MIN_MAX, f"{field}.samples_min")
