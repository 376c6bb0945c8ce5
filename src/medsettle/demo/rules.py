"""The demo nation's audit rules (就医地管理): every province, as place of treatment, audits with ten rules, one of
each kind, with its own thresholds and severities; a few provinces also audit their own insured wherever treated.

Deterministic from the seed (its own `random.Random` per province), published-style, not real rules. Item code
prefixes follow the demo catalog's codes (nation.py): western drugs "X" + ATC class (XC08 calcium channel
blockers, XA10 diabetes drugs, ...), patent drugs "Z", services "00" + chapter, consumables "C".
"""

from __future__ import annotations

import random

from medsettle.demo.nation import BEGNDATE
from medsettle.domain import audit_rules as ar
from medsettle.domain import catalog_split, region
from medsettle.domain.audit_rules import AuditRule

# Drugs on each chronic disease's list (药品目录 of the disease), by code prefix.
HYPERTENSION_DRUGS = ("XC02", "XC03", "XC07", "XC08", "XC09", "XC10", "XB01AC", "Z")
DIABETES_DRUGS = ("XA10", "XC09", "XC10", "XB01AC", "Z")
SERVICE_PREFIX = "00"  # 诊查费, 护理, 检查 ...: charged once a day
INSURED_PLACE_RULE_SHARE = 4  # one province in four also audits its own insured


def rule_id(province: str, kind: str, role: str = ar.ROLE_TREATMENT) -> str:
    tag = {ar.DUPLICATE_IN_VISIT: "DUP", ar.DUPLICATE_SAME_DAY: "DAY", ar.OUTPATIENT_DURING_STAY: "STAY",
           ar.OVERLAPPING_STAYS: "OVL", ar.VISIT_FREQUENCY: "FREQ", ar.CHRONIC_DRUG_OUTSIDE_LIST: "CHR",
           ar.QUANTITY_OVER_DAILY_LIMIT: "QTY", ar.RESTRICTED_ITEM: "LMT", ar.LINE_AMOUNT_OUTLIER: "LINE",
           ar.VISIT_AMOUNT_OUTLIER: "VISIT"}[kind]
    return f"{province[:2]}-{tag}{'-I' if role == ar.ROLE_INSURED else ''}"


def province_rules(seed: int, province: str) -> list[AuditRule]:
    """The ten rules a province applies as place of treatment, and, for some, one for its own insured."""
    rng = random.Random(f"{seed}:{province}:audit_rules")

    def make(kind: str, name: str, severity: str = ar.SEVERITY_FLAG, role: str = ar.ROLE_TREATMENT,
             **params) -> AuditRule:
        return AuditRule(rule_id=rule_id(province, kind, role), admdvs=province, role=role, kind=kind,
                         severity=severity, name=name, begndate=BEGNDATE, **params)

    block_or_flag = (ar.SEVERITY_BLOCK, ar.SEVERITY_FLAG, ar.SEVERITY_FLAG)
    rules = [
        make(ar.DUPLICATE_IN_VISIT, "同日重复收取诊查护理检查费", rng.choice(block_or_flag),
             item_prefixes=(SERVICE_PREFIX,)),
        make(ar.DUPLICATE_SAME_DAY, "同日多家机构重复开药检查", item_prefixes=("X", "Z", SERVICE_PREFIX)),
        make(ar.OUTPATIENT_DURING_STAY, "住院期间门诊结算"),
        make(ar.OVERLAPPING_STAYS, "多家机构住院时间重叠(冒名/分解住院)", rng.choice(block_or_flag),
             overlap_days_min=2),
        make(ar.VISIT_FREQUENCY, "短期内频繁门诊", visits_max=rng.choice((4, 5, 6)), days=7),
        make(ar.CHRONIC_DRUG_OUTSIDE_LIST, "高血压门诊慢特病超范围用药", dise_codg="M03900",
             allowed_prefixes=HYPERTENSION_DRUGS),
        make(ar.QUANTITY_OVER_DAILY_LIMIT, "超每日限量", rng.choice(block_or_flag)),
        make(ar.RESTRICTED_ITEM, "性别年龄限定用药", rng.choice(block_or_flag),
             lmt_reasons=(catalog_split.LMT_SEX, catalog_split.LMT_AGE)),
        make(ar.LINE_AMOUNT_OUTLIER, "单项费用异常偏高", quantile_bp=9990, factor_bp=rng.choice((15000, 20000)),
             samples_min=200),
        make(ar.VISIT_AMOUNT_OUTLIER, "单次费用异常偏高", quantile_bp=9990, factor_bp=rng.choice((15000, 20000)),
             samples_min=200),
    ]
    assert {r.kind for r in rules} == ar.KINDS
    if rng.randrange(INSURED_PLACE_RULE_SHARE) == 0:
        rules.append(make(ar.VISIT_FREQUENCY, "参保人异地频繁就诊", role=ar.ROLE_INSURED, visits_max=8, days=30))
    for rule in rules:
        ar.check(rule, rule.rule_id)
    return rules


def generate(seed: int) -> list[AuditRule]:
    return [rule for province in region.PROVINCES for rule in province_rules(seed, province)]
