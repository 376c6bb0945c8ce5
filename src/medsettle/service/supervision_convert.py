"""Proto <-> domain translation for SupervisionService: audit rules, flags, statistics."""

from __future__ import annotations

from medsettle.domain import audit_rules, codes, flags, region
from medsettle.domain import supervision_stats as stats
from medsettle.domain.audit_rules import AuditRule
from medsettle.domain.flags import Flag
from medsettle.domain.reasons import Refusal
from medsettle.service import convert, identity
from medsettle.v1 import supervision_pb2 as pb


def province(value: str, field: str, *, allow_empty: bool = False) -> str:
    if value == "" and allow_empty:
        return value
    if value == stats.UNKNOWN_REGION:
        return value
    convert.admdvs(value, field)
    if not region.is_province(value):
        raise Refusal.invalid(field, f"{value!r} is not a province code (xx0000)")
    return value


def _codes(values, field: str, limit: int) -> tuple[str, ...]:
    if len(values) > limit:
        raise Refusal.invalid(field, f"{len(values)} values, at most {limit}")
    return tuple(convert.code(v, f"{field}[{i}]") for i, v in enumerate(values))


def rule(pb_rule: pb.AuditRule, field: str) -> AuditRule:
    """Shape here (codes, dates, sizes); meaning in audit_rules.check (every parameter its kind needs)."""
    found = AuditRule(
        rule_id=convert.code(pb_rule.rule_id, f"{field}.rule_id"),
        admdvs=province(pb_rule.admdvs, f"{field}.admdvs"),
        role=convert.code(pb_rule.role, f"{field}.role", audit_rules.ROLES),
        kind=convert.code(pb_rule.kind, f"{field}.kind", audit_rules.KINDS),
        severity=convert.code(pb_rule.severity, f"{field}.severity", audit_rules.SEVERITIES),
        name=convert.checked_name(pb_rule.name, f"{field}.name", audit_rules.RULE_NAME_CHARS_MAX),
        begndate=convert.date(pb_rule.begndate, f"{field}.begndate"),
        enddate=convert.date(pb_rule.enddate, f"{field}.enddate", allow_empty=True),
        med_types=tuple(convert.code(t, f"{field}.med_types[{i}]", codes.MED_TYPES)
                        for i, t in enumerate(pb_rule.med_types)),
        item_prefixes=_codes(pb_rule.item_prefixes, f"{field}.item_prefixes", audit_rules.PREFIXES_MAX),
        dise_codg=convert.code(pb_rule.dise_codg, f"{field}.dise_codg", allow_empty=True),
        allowed_prefixes=_codes(pb_rule.allowed_prefixes, f"{field}.allowed_prefixes", audit_rules.PREFIXES_MAX),
        visits_max=pb_rule.visits_max, days=pb_rule.days, overlap_days_min=pb_rule.overlap_days_min,
        lmt_reasons=_codes(pb_rule.lmt_reasons, f"{field}.lmt_reasons", len(audit_rules.RESTRICTION_REASONS)),
        quantile_bp=pb_rule.quantile, factor_bp=pb_rule.factor or 10_000, samples_min=pb_rule.samples_min,
    )
    if len(set(found.med_types)) != len(found.med_types):
        raise Refusal.invalid(f"{field}.med_types", "a medical type named twice")
    audit_rules.check(found, field)
    return found


def rule_pb(r: AuditRule) -> pb.AuditRule:
    return pb.AuditRule(
        rule_id=r.rule_id, admdvs=r.admdvs, role=r.role, kind=r.kind, severity=r.severity, name=r.name,
        begndate=r.begndate, enddate=r.enddate, med_types=r.med_types, item_prefixes=r.item_prefixes,
        dise_codg=r.dise_codg, allowed_prefixes=r.allowed_prefixes, visits_max=r.visits_max, days=r.days,
        overlap_days_min=r.overlap_days_min, lmt_reasons=r.lmt_reasons, quantile=r.quantile_bp, factor=r.factor_bp,
        samples_min=r.samples_min)


def flag_pb(f: Flag) -> pb.Flag:
    return pb.Flag(
        flag_id=f.flag_id, flag_date=f.flag_date, source=f.source, rule_id=f.rule_id, rule_kind=f.rule_kind,
        rule_admdvs=f.rule_admdvs, rule_role=f.rule_role, rule_name=f.rule_name, setl_id=f.setl_id,
        mdtrt_id=f.mdtrt_id, psn_no=f.psn_no, fixmedins_code=f.fixmedins_code, insuplc_admdvs=f.insuplc_admdvs,
        mdtrtarea_admvs=f.mdtrtarea_admvs, setl_date=f.setl_date, feedetl_sn=f.feedetl_sns, amount=f.amount_fen,
        clearing_amount=f.clearing_fen,
        evidence=[pb.FlagEvidence(kind=e.kind, ref=e.ref, detail=e.detail) for e in f.evidence],
        text_zh=f.zh, text_en=f.en, raised_by=f.raised_by, created=convert.timestamp_of_ms(f.created_ms),
        status=f.status,
        reviews=[pb.FlagReview(who=r.who, when=convert.timestamp_of_ms(r.when_ms), decision=r.decision,
                               deduct=r.deduct_fen, note=r.note) for r in f.reviews],
        deduct=f.deduct_fen, deduct_date=f.deduct_date, given_back_by=f.given_back_by)


def stats_pb(s: stats.DayStats) -> pb.SupervisionStats:
    return pb.SupervisionStats(
        setl_cnt=s.setl_cnt, reversal_cnt=s.reversal_cnt, medfee_sumamt=s.medfee_sumamt_fen,
        fund_pay_sumamt=s.fund_pay_sumamt_fen, refused_cnt=s.refused_cnt, filing_refused_cnt=s.filing_refused_cnt,
        direct_settlement_rate=stats.direct_settlement_rate_bp(s), filing_refusal_share=stats.filing_share_bp(s),
        refusals=[pb.CodeCount(code=c.code, count=c.n) for c in s.refusals],
        flags=[pb.CodeCount(code=c.code, count=c.n) for c in s.flags],
        deduction_cnt=s.deduction_cnt, deducted=s.deducted_fen)


def stats_response(by_day: dict[str, stats.DayStats], by_pair: dict[tuple[str, str], stats.DayStats],
                   by_institution: dict[tuple[str, str], stats.DayStats], listed: int) -> pb.GetSupervisionStatsResponse:
    """The answer of GetSupervisionStats from its rows: by day, by (treated, insured) pair and by (institution,
    treated); the busiest `listed` institutions first (most settlements and refusals, then the key)."""
    busiest = sorted(by_institution.items(), key=lambda kv: (-(kv[1].setl_cnt + kv[1].refused_cnt), kv[0]))
    return pb.GetSupervisionStatsResponse(
        totals=stats_pb(stats.total(by_day.values())),
        by_day=[pb.DayStats(date=d, stats=stats_pb(s)) for d, s in sorted(by_day.items())],
        by_pair=[pb.PairStats(mdtrtarea_admvs=t, insuplc_admdvs=i, stats=stats_pb(s))
                 for (t, i), s in sorted(by_pair.items())],
        by_institution=[pb.InstitutionStats(fixmedins_code=code, mdtrtarea_admvs=t, stats=stats_pb(s))
                        for (code, t), s in busiest[:listed]])


def stats_of_pb(figures: pb.SupervisionStats) -> stats.DayStats:
    """The figures of an answer as the domain adds them (the rates are worked out again from the sums)."""
    return stats.DayStats(
        setl_cnt=figures.setl_cnt, reversal_cnt=figures.reversal_cnt, medfee_sumamt_fen=figures.medfee_sumamt,
        fund_pay_sumamt_fen=figures.fund_pay_sumamt, refused_cnt=figures.refused_cnt,
        filing_refused_cnt=figures.filing_refused_cnt,
        refusals=tuple(stats.Count(code=c.code, n=c.count) for c in figures.refusals),
        flags=tuple(stats.Count(code=c.code, n=c.count) for c in figures.flags),
        deduction_cnt=figures.deduction_cnt, deducted_fen=figures.deducted)


def viewer_of(caller: identity.Caller) -> flags.Viewer:
    """The verified caller (the access interceptor's) as the supervision rules see it."""
    return flags.Viewer(kind=caller.kind, id=caller.id)
