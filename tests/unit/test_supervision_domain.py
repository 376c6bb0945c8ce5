"""The pure supervision rules: distributions, rule checks, flags and who may decide, statistics arithmetic."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medsettle.domain import amount_sketch as sk
from medsettle.domain import audit_rules as ar
from medsettle.domain import flags, reasons
from medsettle.domain import supervision_stats as stats
from medsettle.domain.reasons import Refusal


@given(st.integers(min_value=0, max_value=sk.AMOUNT_FEN_MAX - 1))
def test_every_amount_falls_in_exactly_one_bucket_no_wider_than_an_eighth(amount):
    bucket = sk.bucket_of(amount)
    upper = sk.bucket_upper_fen(bucket)
    lower = sk.bucket_upper_fen(bucket - 1) + 1 if bucket else 0
    assert lower <= amount <= upper
    assert upper - lower <= max(0, lower // 8)  # 8 buckets per doubling: at most 12.5% wide


def test_the_quantile_is_the_upper_edge_of_its_bucket_and_never_below_the_true_one():
    rng = random.Random(7)
    day = sk.day_number("2026-03-02")
    amounts = [rng.randrange(1, 1_000_000) for _ in range(5_000)]
    dist = sk.distribution(sk.add(sk.AmountSketch(), day, amounts), day)
    for quantile_bp in (5_000, 9_000, 9_990):
        samples, upper = sk.quantile_upper_fen(dist, quantile_bp)
        true = sorted(amounts)[-(-len(amounts) * quantile_bp // 10_000) - 1]
        assert samples == 5_000 and true <= upper <= true + true // 8 + 1
        assert not sk.may_exceed_quantile(dist, quantile_bp, true)
        assert sk.may_exceed_quantile(dist, quantile_bp, upper + 1)


def _quantile_by_a_pass(sketch, day, quantile_bp, amount_fen):
    """The definitions a distribution answers for, by a pass over every bucket count of the window (as the audit
    computed them before distributions were merged once per read): (samples, quantile's upper edge, may exceed)."""
    oldest = sk.slot_start(day) - (sk.SLOTS_KEPT - 1) * sk.SLOT_DAYS
    counts = [(bucket, n) for slot in sketch.slots if slot.day0 >= oldest for bucket, n in slot.counts.items()]
    total = sum(n for _, n in counts)
    rank = -(-total * quantile_bp // 10_000)
    below = sum(n for bucket, n in counts if bucket < sk.bucket_of(amount_fen))
    merged: dict[int, int] = {}
    for bucket, n in counts:
        merged[bucket] = merged.get(bucket, 0) + n
    seen, upper = 0, 0
    for bucket in sorted(merged):
        seen += merged[bucket]
        if seen >= rank:
            upper = sk.bucket_upper_fen(bucket)
            break
    return (total, upper if total else 0), total > 0 and below >= rank


@given(st.lists(st.tuples(st.integers(0, 120), st.lists(st.integers(0, sk.AMOUNT_FEN_MAX - 1), max_size=30)),
                max_size=40),
       st.integers(0, 130), st.integers(1, 9_999), st.integers(0, sk.AMOUNT_FEN_MAX - 1))
def test_a_merged_distribution_answers_as_a_pass_over_the_window_does(days_amounts, day_offset, quantile_bp, amount):
    day0 = sk.day_number("2026-01-01")
    sketch = sk.AmountSketch()
    for offset, amounts in sorted(days_amounts):
        sketch = sk.add(sketch, day0 + offset, amounts)
    day = day0 + max([offset for offset, _ in days_amounts] + [day_offset])  # never before the last write
    dist = sk.distribution(sketch, day)
    quantile, exceeds = _quantile_by_a_pass(sketch, day, quantile_bp, amount)
    assert sk.quantile_upper_fen(dist, quantile_bp) == quantile
    assert sk.may_exceed_quantile(dist, quantile_bp, amount) is exceeds
    assert dist.total == sk.count(sketch, day)


@given(st.lists(st.dictionaries(st.integers(0, sk.BUCKETS - 1), st.integers(1, 10**6), max_size=60), max_size=9))
def test_a_window_of_few_counts_merges_as_a_dense_one_does(slot_counts):
    # A distribution merges a window of at most SPARSE_ENTRIES_MAX counts by dict and sort, larger ones by a list
    # of every bucket: the same buckets and cumulative counts either way, on both sides of the bound.
    live = tuple(sk.Slot(day0=n * sk.SLOT_DAYS, counts=counts) for n, counts in enumerate(slot_counts))
    assert sk._merged_sparse(live) == sk._merged_dense(live)
    assert sk.distribution(sk.AmountSketch(slots=live), live[-1].day0 if live else 0).at_or_below == \
        sk._merged_dense(live)[1]


def test_a_window_remembers_the_quantile_it_was_last_asked():
    day = sk.day_number("2026-03-02")
    dist = sk.distribution(sk.add(sk.AmountSketch(), day, [100, 200, 200, 5_000]), day)
    assert (dist.total, dist.at_or_below) == (4, (1, 3, 4))
    assert sk.quantile_upper_fen(dist, 5_000) == (4, sk.bucket_upper_fen(sk.bucket_of(200)))
    assert dist._last_quantile == (5_000, sk.bucket_of(200))
    assert sk.quantile_upper_fen(dist, 9_000) == (4, sk.bucket_upper_fen(sk.bucket_of(5_000)))  # another: searched
    empty = sk.distribution(sk.AmountSketch(), day)
    assert empty.total == 0 and sk.quantile_upper_fen(empty, 5_000) == (0, 0)
    assert not sk.may_exceed_quantile(empty, 5_000, 1)


@given(st.lists(st.integers(1, 10**7), max_size=300), st.integers(0, 400), st.integers(1, 10**7))
def test_an_outlier_is_judged_alike_whether_or_not_a_thin_window_is_looked_at(amounts, samples_min, amount):
    # The audit asks for the total before the quantile (a thin window is never searched); before, it asked whether
    # the amount may exceed the quantile first and then found no threshold for a thin window: the same verdict.
    from medsettle.domain import audit

    day = sk.day_number("2026-03-02")
    rule_ = rule(kind=ar.LINE_AMOUNT_OUTLIER, quantile_bp=9_000, factor_bp=15_000, samples_min=samples_min)
    dist = sk.distribution(sk.add(sk.AmountSketch(), day, amounts), day)
    samples, quantile_fen = sk.quantile_upper_fen(dist, 9_000)
    threshold_then = 0
    if sk.may_exceed_quantile(dist, 9_000, amount) and samples >= samples_min:
        threshold_then = sk.threshold_fen(quantile_fen, 15_000)
    threshold_now = audit._outlier_threshold(rule_, dist, amount)
    assert (bool(threshold_then) and amount > threshold_then) == (bool(threshold_now) and amount > threshold_now)


@given(st.lists(st.tuples(st.integers(0, 120), st.lists(st.integers(1, 10**7), max_size=40)), max_size=12),
       st.integers(0, 300), st.integers(0, 300), st.integers(1, 10**7))
def test_a_thin_window_is_counted_and_judged_as_the_merged_one(days_amounts, floor, samples_min, amount):
    # A window with fewer amounts than the rules' fewest samples_min (the floor) is counted, not merged: its total
    # is the merged one's, and every rule asking at least the floor judges any amount by it as by the merged one.
    from medsettle.domain import audit

    day0 = sk.day_number("2026-01-01")
    sketch = sk.AmountSketch()
    for offset, amounts in sorted(days_amounts):
        sketch = sk.add(sketch, day0 + offset, amounts)
    day = day0 + max([offset for offset, _ in days_amounts], default=0)
    merged, counted = sk.distribution(sketch, day), sk.distribution(sketch, day, floor)
    assert counted.total == merged.total == sk.count(sketch, day)
    assert counted == merged if merged.total >= floor else (counted.buckets, counted.at_or_below) == ((), ())
    assert counted.answers(floor) and merged.answers(0)
    assert counted.answers(samples_min) is (merged.total >= floor or merged.total < samples_min or not merged.total)
    rule_ = rule(kind=ar.LINE_AMOUNT_OUTLIER, quantile_bp=9_000, factor_bp=15_000, samples_min=max(floor, 10))
    assert audit._outlier_threshold(rule_, counted, amount) == audit._outlier_threshold(rule_, merged, amount)


def test_the_floor_is_the_fewest_amounts_any_rule_of_the_kind_asks_for():
    from medsettle.domain import audit

    rules = [rule(kind=ar.LINE_AMOUNT_OUTLIER, quantile_bp=9_000, factor_bp=15_000, samples_min=n) for n in (300, 40)]
    rules.append(rule(kind=ar.VISIT_AMOUNT_OUTLIER, quantile_bp=9_000, factor_bp=15_000, samples_min=20))
    assert audit.samples_min_floor(rules, ar.LINE_AMOUNT_OUTLIER) == 40
    assert audit.samples_min_floor(rules, ar.VISIT_AMOUNT_OUTLIER) == 20
    assert audit.samples_min_floor(rules[:2], ar.VISIT_AMOUNT_OUTLIER) == 0


def test_an_outlier_is_judged_from_samples_min_amounts_on_and_not_one_fewer():
    from medsettle.domain import audit

    day = sk.day_number("2026-03-02")
    dist = sk.distribution(sk.add(sk.AmountSketch(), day, [1_000] * 50), day)
    far_out = 100_000
    judged = audit._outlier_threshold(rule(kind=ar.LINE_AMOUNT_OUTLIER, quantile_bp=9_000, factor_bp=15_000,
                                           samples_min=50), dist, far_out)
    assert 1_000 < judged < far_out  # 1.5 x the bucket's upper edge
    assert audit._outlier_threshold(rule(kind=ar.LINE_AMOUNT_OUTLIER, quantile_bp=9_000, factor_bp=15_000,
                                         samples_min=51), dist, far_out) == 0
    assert audit._outlier_threshold(rule(kind=ar.LINE_AMOUNT_OUTLIER, quantile_bp=9_000, factor_bp=15_000,
                                         samples_min=0), None, far_out) == 0  # no window: nothing to judge by


def test_a_sketch_keeps_the_last_ninety_days_in_at_most_nine_slots():
    day = sk.day_number("2026-01-01")
    sketch = sk.AmountSketch()
    for n in range(200):  # one amount a day for 200 days
        sketch = sk.add(sketch, day + n, [100])
    assert len(sketch.slots) <= sk.SLOTS_KEPT
    assert 81 <= sk.count(sketch, day + 199) <= 90
    assert sk.count(sketch, day + 199 + 100) == 0  # 100 days later nothing is left in the window
    encoded = msgspec.msgpack.encode(sketch)
    assert msgspec.msgpack.decode(encoded, type=sk.AmountSketch) == sketch


def rule(**fields) -> ar.AuditRule:
    values = dict(rule_id="44-X", admdvs="440000", role="1", kind=ar.DUPLICATE_IN_VISIT, severity="FLAG",
                  begndate="2026-01-01")
    values.update(fields)
    return ar.AuditRule(**values)


@pytest.mark.parametrize("fields, field", [
    (dict(kind=ar.VISIT_FREQUENCY, visits_max=3, days=91), "r.days"),
    (dict(kind=ar.VISIT_FREQUENCY, visits_max=0, days=7), "r.visits_max"),
    (dict(kind=ar.CHRONIC_DRUG_OUTSIDE_LIST, dise_codg="M03900"), "r.allowed_prefixes"),
    (dict(kind=ar.CHRONIC_DRUG_OUTSIDE_LIST, dise_codg="X1", allowed_prefixes=("XC",)), "r.dise_codg"),
    (dict(kind=ar.OVERLAPPING_STAYS), "r.overlap_days_min"),
    (dict(kind=ar.RESTRICTED_ITEM, lmt_reasons=("LMT_QUANTITY",)), "r.lmt_reasons"),
    (dict(kind=ar.LINE_AMOUNT_OUTLIER, quantile_bp=9990, factor_bp=15000, samples_min=100, role="2"), "r.role"),
    (dict(kind=ar.LINE_AMOUNT_OUTLIER, quantile_bp=10_000, factor_bp=15000, samples_min=100), "r.quantile_bp"),
    (dict(kind=ar.VISIT_FREQUENCY, visits_max=3, days=7, med_types=("11", "21")), "r.med_types[1]"),
    (dict(admdvs="440100"), "r.admdvs"),
    (dict(begndate="2026-02-30"), "r.begndate"),
    (dict(item_prefixes=("X C",)), "r.item_prefixes[0]"),
])
def test_a_rule_missing_or_breaking_a_parameter_is_refused_naming_it(fields, field):
    with pytest.raises(Refusal) as refused:
        ar.check(rule(**fields), "r")
    assert refused.value.field == field


def test_in_force_skips_retired_and_expired_versions():
    versions = [rule(enddate="2026-02-28"), rule(severity="OFF", begndate="2026-03-01")]
    assert ar.in_force(versions, "2026-02-01") == (versions[0],)
    assert ar.in_force(versions, "2026-03-02") == ()
    assert rule(kind=ar.VISIT_FREQUENCY).applies_to("11") and not rule(kind=ar.VISIT_FREQUENCY).applies_to("14")
    assert rule(kind=ar.VISIT_FREQUENCY, med_types=("14",)).applies_to("14")


def flag(**fields) -> flags.Flag:
    values = dict(flag_id="G20260302000000000001", flag_date="2026-03-02", source="RULE", rule_id="44-X",
                  setl_id="S1", mdtrt_id="M1", psn_no="P1", fixmedins_code="H1", insuplc_admdvs="110000",
                  mdtrtarea_admvs="440000", setl_date="2026-03-02", amount_fen=500, clearing_fen=1_000, created_ms=0)
    values.update(fields)
    return flags.Flag(**values)


GD = flags.Viewer(kind=flags.PROVINCE, id="440000")
BJ = flags.Viewer(kind=flags.PROVINCE, id="110000")
SH = flags.Viewer(kind=flags.PROVINCE, id="310000")
NATION = flags.Viewer(kind=flags.NATIONAL, id="nhsa")
HOSPITAL = flags.Viewer(kind=flags.INSTITUTION, id="H1")


def test_who_may_see_raise_and_decide():
    f = flag()
    assert [flags.may_see(v, f) for v in (GD, BJ, SH, NATION, HOSPITAL)] == [True, True, False, True, True]
    assert [flags.may_decide(v, f) for v in (GD, BJ, SH, NATION, HOSPITAL)] == [True, False, False, False, False]
    assert flags.may_raise(BJ, "110000") and not flags.may_raise(GD, "110000")
    assert flags.may_push_rules(GD, "440000") and flags.may_push_rules(NATION, "440000")
    assert not flags.may_push_rules(BJ, "440000")


def decide(f, viewer=GD, decision="CONFIRM", deduct=300, elsewhere=0, reversed_=False):
    return flags.review(f, viewer, decision, deduct, deducted_elsewhere_fen=elsewhere, settlement_reversed=reversed_,
                        when_ms=1, date="2026-03-03")


def test_review_confirms_with_a_bounded_deduction_once():
    done = decide(flag())
    assert (done.status, done.deduct_fen, done.deduct_date, len(done.reviews)) == ("CONFIRMED", 300, "2026-03-03", 1)
    assert decide(flag(), decision="CLEAR", deduct=0).status == "CLEARED"
    cases = [(dict(f=done), reasons.FLAG_ALREADY_DECIDED), (dict(f=flag(), viewer=BJ), reasons.SUPERVISION_NOT_PERMITTED),
             (dict(f=flag(), deduct=1_001), reasons.DEDUCTION_TOO_LARGE),
             (dict(f=flag(), deduct=701, elsewhere=300), reasons.DEDUCTION_TOO_LARGE),
             (dict(f=flag(), reversed_=True), reasons.DEDUCTION_TOO_LARGE),
             (dict(f=flag(), decision="CLEAR", deduct=5), reasons.INVALID_ARGUMENT)]
    for kwargs, reason in cases:
        with pytest.raises(Refusal) as refused:
            decide(**kwargs)
        assert refused.value.reason is reason, kwargs
    assert decide(flag(), deduct=700, elsewhere=300).deduct_fen == 700


def test_statistics_add_up_and_define_the_rates():
    day = stats.total([stats.of_refusal(("NO_FILING",)), stats.of_refusal(("INSU_STATUS_ABNORMAL", "NO_FILING")),
                       stats.of_refusal(("FILING_EXPIRED", "FILING_OTHER_REGION")), stats.of_flags(["A", "B", "A"]),
                       stats.of_deduction(500), stats.of_deduction(-500)])
    assert (day.refused_cnt, day.filing_refused_cnt) == (3, 2)  # a refusal with a status reason is not a filing one
    assert [(c.code, c.n) for c in day.refusals] == [("FILING_EXPIRED", 1), ("INSU_STATUS_ABNORMAL", 1),
                                                     ("NO_FILING", 1)]
    assert [(c.code, c.n) for c in day.flags] == [("A", 2), ("B", 1)]
    assert (day.deduction_cnt, day.deducted_fen) == (0, 0)
    settled = stats.add(day, stats.DayStats(setl_cnt=7))
    assert stats.direct_settlement_rate_bp(settled) == 7_000 and stats.filing_share_bp(settled) == 6_667
    assert stats.direct_settlement_rate_bp(stats.DayStats()) == 0


def test_an_answers_figures_read_back_as_the_figures_they_were_made_from():
    """What cluster/supervision_gather.py adds across shards: an answer's figures, read back exactly."""
    from medsettle.service import supervision_convert as sc

    day = stats.add(stats.total([stats.of_refusal(("NO_FILING",)), stats.of_flags(["A", "B", "A"]),
                                 stats.of_deduction(500)]),
                    stats.DayStats(setl_cnt=7, reversal_cnt=1, medfee_sumamt_fen=123_456, fund_pay_sumamt_fen=-78))
    assert sc.stats_of_pb(sc.stats_pb(day)) == day
    assert sc.stats_of_pb(sc.stats_pb(stats.DayStats())) == stats.DayStats()
