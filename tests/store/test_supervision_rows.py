"""The supervision rows a write batch leaves (amount sketches, day statistics, flags, day records): byte for byte
those of one job per batch and of direct writes; a failed job leaves nothing; a job reads what the batch's earlier
jobs wrote. On both backends. A guard for any change that holds such rows per batch instead of writing them per job
(issue 15 tried one and reverted it: bench/RESULTS.md)."""

from __future__ import annotations

import random
import threading

import msgspec
import pytest

from medsettle.domain import amount_sketch, audit_rules, codes
from medsettle.domain import supervision_stats as stats
from medsettle.domain.amount_sketch import AmountSketch
from medsettle.domain.audit import Hit
from medsettle.domain.records import FundPayment, LineResult, Settlement
from medsettle.domain.reversal import reverse
from medsettle.store import codec, supervision_book
from medsettle.store.view import KEYSPACES, REFERENCE_TOKEN, SKETCH_ITEM
from medsettle.store.writer import GroupCommitWriter
from tests.conftest import BACKENDS, open_test_store

CODES = ("A01", "A02", "B01", "B02", "C01")
INSTITUTIONS = ("H44010601", "H44010602", "H31010101")
RULE = audit_rules.AuditRule(rule_id="GD-OUT-01", admdvs="440000", role=audit_rules.ROLE_TREATMENT,
                             kind=audit_rules.VISIT_FREQUENCY, severity=audit_rules.SEVERITY_FLAG, begndate="2026-01-01",
                             visits_max=3, days=7)


def _settlement(n: int) -> Settlement:
    """The n-th of a day's settlements: a few institutions and items, so that many share sketch and stats rows."""
    fixmedins_code = INSTITUTIONS[n % len(INSTITUTIONS)]
    lines = tuple(LineResult(feedetl_sn=f"{n}-{i}", med_list_codg=CODES[(n + i) % len(CODES)],
                             det_item_fee_sumamt_fen=100 + 37 * n + 1000 * i, fulamt_ownpay_amt_fen=0, overlmt_amt_fen=0,
                             preselfpay_amt_fen=0, inscp_scp_amt_fen=100 + 37 * n + 1000 * i, chrgitm_lv="01",
                             selfpay_prop_bp=0, pric_uplmt_amt_fen=0) for i in range(4))
    total = sum(line.det_item_fee_sumamt_fen for line in lines)
    return Settlement(setl_id=f"S20260302{n:012d}", mdtrt_id=f"M{n}", psn_no=f"P{n % 7}", insutype="310",
                      med_type="11", fixmedins_code=fixmedins_code,
                      insuplc_admdvs="110105" if n % 2 else "320102",
                      mdtrtarea_admvs="310101" if fixmedins_code.startswith("H31") else "440106",
                      setl_date="2026-03-02" if n < 30 else "2026-03-13",  # the second: a sketch's next slot
                      setl_time_ms=n, filing_category="12", clr_type=codes.CLR_TYPE_OUTPATIENT,
                      medfee_sumamt_fen=total, fulamt_ownpay_amt_fen=0, overlmt_selfpay_fen=0, preselfpay_amt_fen=0,
                      inscp_scp_amt_fen=total, act_pay_dedc_fen=0, hifp_pay_fen=total // 2, pool_prop_selfpay_bp=0,
                      hifob_pay_fen=0, hifmi_pay_fen=0, fund_pay_sumamt_fen=total // 2, psn_part_amt_fen=total - total // 2,
                      acct_pay_fen=0, psn_cash_pay_fen=total - total // 2, balc_fen=0, lines=lines,
                      setldetail=(FundPayment(fund_pay_type=codes.FUND_EMPLOYEE_POOL, fund_payamt_fen=total // 2,
                                              crt_payb_lmt_amt_fen=10**9),),
                      accumulator_year=2026)


class Refused(Exception):
    """A refusal found under the write lock, after the job had written its supervision rows."""


def _jobs() -> list:
    """Settlements (some flagged), a reversal of one of them, refusal counts, and failing jobs in between."""
    jobs = []
    for n in range(40):
        setl = _settlement(n)
        hits = (Hit(rule=RULE, amount_fen=setl.medfee_sumamt_fen, zh="频繁就诊", en="frequent visits"),) if n % 5 == 0 else ()

        def settle(view, setl=setl, hits=hits, fails=n % 9 == 4):
            supervision_book.record_settlement(view, setl, hits, when_ms=setl.setl_time_ms)
            if fails:
                raise Refused(setl.setl_id)
            return setl.setl_id

        jobs.append(settle)
        if n == 12:
            original = _settlement(3)

            def reverse_it(view, original=original):
                supervision_book.record_reversal(view, original, reverse(original, "S20260302999999999999", 99,
                                                                         original.setl_date))

            jobs.append(reverse_it)
        if n % 6 == 1:
            def refused(view, n=n):
                view.add_stats("2026-03-02", "440000", "110000", INSTITUTIONS[n % 3], stats.of_refusal(("1201",)))

            jobs.append(refused)
    return jobs


def _run(store, jobs, batch_jobs_max: int) -> GroupCommitWriter:
    """Every job through a writer; with a batch larger than one, all of them in one batch."""
    writer = GroupCommitWriter(store, batch_jobs_max=batch_jobs_max)
    hold = threading.Event()
    held = writer.submit(lambda view: hold.wait(10))  # the rest queue up behind it
    futures = [writer.submit(job) for job in jobs]
    hold.set()
    assert held.result(10) is True
    for future in futures:
        future.exception(10)  # settled one way or the other
    writer.close()
    return writer


def _dump(store) -> dict[str, list[tuple[bytes, bytes]]]:
    found = {}
    with store.read() as view:
        for space in KEYSPACES:
            cursor = view.txn.cursor(db=view.dbs[space])
            found[space] = [(bytes(k), bytes(v)) for k, v in cursor] if cursor.first() else []
    found["meta"] = [(k, v) for k, v in found["meta"] if k != REFERENCE_TOKEN.encode()]  # random per new store
    return found


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_leaves_the_same_bytes_as_one_write_per_job_and_a_failed_job_leaves_nothing(backend, store, tmp_path,
                                                                                          request):
    one_by_one = open_test_store(backend, tmp_path / "one_by_one", request)
    direct = open_test_store(backend, tmp_path / "direct", request)
    try:
        jobs = _jobs()
        batched = _run(store, jobs, batch_jobs_max=len(jobs) + 1)
        assert batched.batches <= 2  # the holding job, then (all but surely) every other job together
        assert _run(one_by_one, jobs, batch_jobs_max=1).batches == len(jobs) + 1
        for job in jobs:  # outside any batch (store.write(): tools, seeding)
            try:
                with direct.write() as view:
                    job(view)
            except Refused:
                pass
        wanted = _dump(direct)
        assert wanted["sketches"] and wanted["stats"] and wanted["flags"]
        assert _dump(store) == wanted
        assert _dump(one_by_one) == wanted
    finally:
        one_by_one.close()
        direct.close()
    with store.read() as view:  # the failed jobs (n % 9 == 4) count nowhere
        day = dict(view.stats_rows("2026-03-02", 100))
        assert sum(row.setl_cnt for row in day.values()) == sum(1 for n in range(30) if n % 9 != 4)
        assert sum(row.reversal_cnt for row in day.values()) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_what_jobs_of_one_batch_see(backend, store):
    """Each job's view, as returned to its waiter: the second sees the first's rows (stats_rows merging them with the
    store's), the fourth sees neither the failed third's nor its own future."""
    day_no = amount_sketch.day_number("2026-03-02")
    with store.write() as view:
        view.add_stats("2026-03-02", "440000", "110000", "H2", stats.DayStats(setl_cnt=5))
    writer = GroupCommitWriter(store, batch_jobs_max=16)
    hold = threading.Event()
    held = writer.submit(lambda view: hold.wait(10))

    def first(view):
        view.add_stats("2026-03-02", "440000", "110000", "H1", stats.DayStats(setl_cnt=1))
        view.put_sketch(amount_sketch.add(AmountSketch(), day_no, (100,)), SKETCH_ITEM, "440000", "X01")

    def failing(view):
        view.add_stats("2026-03-02", "440000", "110000", "H1", stats.DayStats(setl_cnt=10))
        view.add_stats("2026-03-02", "440000", "110000", "H3", stats.DayStats(setl_cnt=10))
        view.put_sketch(amount_sketch.add(AmountSketch(), day_no, (9,)), SKETCH_ITEM, "440000", "X02")
        raise Refused("under the lock")

    def look(view):
        return ({code: row.setl_cnt for (_, _, code), row in view.stats_rows("2026-03-02", 100)},
                amount_sketch.count(view.sketch(SKETCH_ITEM, "440000", "X01") or AmountSketch(), day_no),
                view.sketch(SKETCH_ITEM, "440000", "X02"))

    futures = [writer.submit(job) for job in (first, look, failing, look)]
    hold.set()
    assert held.result(10) is True
    assert futures[1].result(10) == ({"H1": 1, "H2": 5}, 1, None)
    assert isinstance(futures[2].exception(10), Refused)
    assert futures[3].result(10) == ({"H1": 1, "H2": 5}, 1, None)
    assert writer.batches <= 2
    writer.close()
    with store.read() as view:
        assert {code: row.setl_cnt for (_, _, code), row in view.stats_rows("2026-03-02", 100)} == {"H1": 1, "H2": 5}
        assert view.sketch(SKETCH_ITEM, "440000", "X02") is None


def _random_sketch(rng: random.Random, day0: int) -> tuple[AmountSketch, int]:
    """A sketch of up to 40 days of amounts spread over up to 130 days, and a day to add on (never before its last)."""
    sketch, day = AmountSketch(), day0
    for offset in sorted(rng.sample(range(130), rng.randrange(0, 40))):
        day = day0 + offset
        sketch = amount_sketch.add(sketch, day, [rng.randrange(0, 10**rng.randrange(1, 10)) for _ in range(25)])
    return sketch, day + rng.choice((0, 0, 1, 5, 9, 10, 30, 95))


@pytest.mark.parametrize("backend", BACKENDS)
def test_adding_to_a_stored_distribution_writes_what_adding_to_the_whole_would(backend, store):
    """add_to_sketch decodes only the current slot: the bytes it writes are those of amount_sketch.add on the whole
    distribution, for 300 distributions of every age (the window moving on, slots dropped, a new one started), for
    an empty one, and for one an earlier release wrote as a map."""
    rng = random.Random(2026)
    day0 = amount_sketch.day_number("2026-01-01")
    cases = [_random_sketch(rng, day0) for _ in range(300)]
    with store.write() as view:
        for n, (sketch, _) in enumerate(cases):
            view.put_sketch(sketch, SKETCH_ITEM, "440000", f"S{n}")
        view.txn.put(b"I\x00440000\x00LEGACY", bytes([codec.LEGACY_MAP]) + msgspec.msgpack.encode(
            {"slots": [{"day0": amount_sketch.slot_start(day0), "counts": {3: 2}}]}), db=view.dbs["sketches"])
    with store.write() as view:
        for n, (sketch, day) in enumerate(cases):
            amounts = [rng.randrange(0, 10**7) for _ in range(rng.randrange(1, 4))]
            view.add_to_sketch(SKETCH_ITEM, "440000", f"S{n}", day, amounts)
            expected = codec.encode(amount_sketch.add(sketch, day, amounts))
            assert bytes(view.txn.get(f"I\x00440000\x00S{n}".encode(), db=view.dbs["sketches"])) == expected, n
        view.add_to_sketch(SKETCH_ITEM, "440000", "NEW", day0, [100, 100])
        view.add_to_sketch(SKETCH_ITEM, "440000", "LEGACY", day0, [100])
    with store.read() as view:
        assert view.sketch(SKETCH_ITEM, "440000", "NEW") == amount_sketch.add(AmountSketch(), day0, [100, 100])
        legacy = view.sketch(SKETCH_ITEM, "440000", "LEGACY")
        assert legacy == amount_sketch.AmountSketch(slots=(amount_sketch.Slot(
            day0=amount_sketch.slot_start(day0), counts={3: 2, amount_sketch.bucket_of(100): 1}),))


def test_a_thin_window_held_for_rules_asking_more_is_read_again_for_rules_asking_fewer(store):
    # The distributions' cache holds a window thinner than its readers' floor as its total only; a rule set with a
    # lower floor that the window reaches reads it again, merged, and the merged one serves every floor after it.
    day = amount_sketch.day_number("2026-03-02")
    with store.write() as view:
        view.add_to_sketch(SKETCH_ITEM, "440000", "THIN", day, [1_000] * 50)
    with store.read() as view:
        token = view.reference_token() + b"thin-test"  # a key of its own in the process's cache
        thin = supervision_book._distribution(view, token, SKETCH_ITEM, "440000", "THIN", day, 200)
        assert (thin.total, thin.at_or_below) == (50, ())
        assert supervision_book._distribution(view, token, SKETCH_ITEM, "440000", "THIN", day, 100) is thin
        merged = supervision_book._distribution(view, token, SKETCH_ITEM, "440000", "THIN", day, 20)
        assert (merged.total, merged.at_or_below) == (50, (50,))
        assert supervision_book._distribution(view, token, SKETCH_ITEM, "440000", "THIN", day, 200) is merged
        assert supervision_book._distribution(view, token, SKETCH_ITEM, "440000", "NONE", day, 20) is None
