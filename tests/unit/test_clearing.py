"""Clearing, prepaid and reconciliation math (pure), plus the commit-time aggregates against the ledger and the
`medsettle clearing run` command over a real store."""

from __future__ import annotations

import random

import pytest

from medsettle.cli import main as cli_main
from medsettle.domain import clearing, prepaid, reasons, reconciliation
from medsettle.domain.clearing import Totals
from medsettle.domain.reasons import Refusal
from medsettle.service.clock import FixedClock
from medsettle.store import clearing_book
from medsettle.store.rows import ClosedMonth
from tests import clearing_world as cw

BJ, SH, GD = "110000", "310000", "440000"


def test_statement_positions_nets_sum_to_zero_and_zero_pairs_are_left_out():
    rows = [((BJ, GD), Totals(setl_cnt=2, medfee_sumamt_fen=1000, fund_pay_sumamt_fen=700, acct_pay_fen=100)),
            ((GD, BJ), Totals(setl_cnt=1, medfee_sumamt_fen=500, fund_pay_sumamt_fen=300, acct_pay_fen=0)),
            ((SH, GD), Totals(setl_cnt=0)),  # a settlement and its reversal in one month
            ((BJ, SH), Totals(setl_cnt=-1, medfee_sumamt_fen=-200, fund_pay_sumamt_fen=-150, acct_pay_fen=-50))]
    stmt = clearing.statement("2026-01", rows)
    assert [(p.insuplc_admdvs, p.mdtrtarea_admvs) for p in stmt.pairs] == [(BJ, SH), (BJ, GD), (GD, BJ)]
    assert {p.admdvs: (p.receivable_fen, p.payable_fen, p.net_fen) for p in stmt.positions} == {
        BJ: (300, 600, -300), SH: (-200, 0, -200), GD: (800, 300, 500)}
    assert sum(p.net_fen for p in stmt.positions) == 0


def test_canonical_bytes_do_not_depend_on_input_order():
    rng = random.Random(6)
    rows = [((a, b), Totals(setl_cnt=rng.randint(-3, 50), medfee_sumamt_fen=rng.randint(0, 10**9),
                            fund_pay_sumamt_fen=rng.randint(0, 10**8), acct_pay_fen=rng.randint(0, 10**6)))
            for a in ("110000", "310000", "440000", "510000", "650000") for b in ("110000", "440000", "660000")]
    first = clearing.canonical_bytes(clearing.statement("2026-03", rows))
    rng.shuffle(rows)
    again = clearing.canonical_bytes(clearing.statement("2026-03", rows))
    assert first == again and clearing.digest(first) == clearing.digest(again)
    assert clearing.canonical_bytes(clearing.decode(first)) == first


def test_months():
    assert clearing.is_month("2026-01") and not clearing.is_month("2026-13") and not clearing.is_month("26-01")
    assert not clearing.is_month("2026-01\n") and not clearing.is_month("20٢٦-01")  # re.match with `$`, \d: both passed
    assert clearing.next_month("2026-12") == "2027-01" and clearing.previous_month("2026-01") == "2025-12"


def test_prepaid_draw_alert_and_top_up():
    fund = prepaid.new_fund(BJ, 2026, prepaid.size_from_previous_year(1_200_000, 2))
    assert fund.balance_set_fen == 200_000 and fund.warn_threshold_bp == 7000
    fund, alert = prepaid.draw(fund, "2026-01", 130_000)
    assert alert is None and fund.usage_bp == 6500
    fund, alert = prepaid.draw(fund, "2026-02", 10_000)
    assert alert is not None and alert.usage_bp == 7000 and alert.balance_fen == 60_000  # at the threshold: alert
    with pytest.raises(AssertionError):
        prepaid.draw(fund, "2026-02", 1)  # a month draws once
    fund = prepaid.top_up(fund, 150_000, when_ms=1)
    assert (fund.funded_fen, fund.balance_fen, fund.usage_bp, fund.over_threshold) == (350_000, 210_000, 4000, False)
    reset = prepaid.new_fund(BJ, 2026, 500_000, old=fund)
    assert reset.drawn_fen == 140_000 and reset.topped_up_fen == 150_000


def test_reconciliation_detail_names_exactly_the_differences():
    def item(sid, fee):
        return reconciliation.Item(setl_id=sid, medfee_sumamt_fen=fee, fund_pay_sumamt_fen=fee // 2, acct_pay_fen=0)

    core = [item(f"S{n}", n) for n in range(1000)]
    theirs = [item(f"S{n}", n) for n in range(1000) if n != 10] + [item("X1", 5)]
    theirs[500] = item("S501", 9)
    found = reconciliation.detail(theirs, core)
    assert [i.setl_id for i in found.missing_in_core] == ["X1"]
    assert [i.setl_id for i in found.missing_at_institution] == ["S10"]
    assert [(d.setl_id, d.institution.medfee_sumamt_fen, d.core.medfee_sumamt_fen) for d in found.amounts_differ] == [
        ("S501", 9, 501)]
    assert reconciliation.detail(core, core).match


def test_commit_time_aggregates_equal_the_ledger_with_reversals(store):
    rng = random.Random(2026)
    cities = list(cw.CITY.values()) + ["650102", "660100"]
    written = []
    with store.write() as view:
        for n in range(3_000):
            insured, treated = rng.sample(cities, 2)
            date = f"2026-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}"
            setl = cw.settlement(f"S{n:05d}", "H1", date, insured, treated, rng.randint(1, 10**6))
            view.put_settlement(setl)
            written.append(setl)
        for n, original in enumerate(rng.sample(written, 400)):  # reversed the same month or later
            date = max(original.setl_date, f"2026-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}")
            view.put_settlement(cw.settlement(f"V{n:05d}", "H1", date, original.insuplc_admdvs,
                                              original.mdtrtarea_admvs, original.medfee_sumamt_fen,
                                              reverses=original.setl_id))
    with store.read() as view:
        for month in ("2026-01", "2026-02", "2026-03"):
            fast = clearing_book.book(view, month)
            assert fast.canonical == clearing.canonical_bytes(clearing_book.ledger_statement(view, month))
            assert sum(p.net_fen for p in fast.statement.positions) == 0
        assert sum(p.setl_cnt for m in ("2026-01", "2026-02", "2026-03")
                   for p in clearing_book.book(view, m).statement.pairs) == 3_000 - 400


def test_a_closed_month_refuses_a_new_settlement(store):
    with store.write() as view:
        view.put_settlement(cw.settlement("S1", "H1", "2026-01-05", "110105", "440106", 100))
        clearing_book.close_month(view, "2026-01", today="2026-02-01", now_ms=0)
        assert isinstance(view.closed_month("2026-01"), ClosedMonth)
    with pytest.raises(AssertionError, match="closed month"), store.write() as view:
        view.put_settlement(cw.settlement("S2", "H1", "2026-01-31", "110105", "440106", 100))
    with store.read() as view:
        assert view.settlement("S2") is None


def test_cli_clearing_run_prints_and_writes_csv_and_svg(store, tmp_path, capsys, monkeypatch):
    with store.write() as view:
        view.put_settlement(cw.settlement("S1", "H1", "2026-01-05", "110105", "440106", 12_345))
        view.put_settlement(cw.settlement("S2", "H1", "2026-01-06", "440106", "310101", 1_000))
    data_dir = store.config.path
    store.close()
    out = tmp_path / "out"
    assert cli_main(["clearing", "run", "--month", "2026-01", "--data-dir", data_dir, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "110000 Beijing" in printed and "123.45" in printed and "sum of nets" in printed
    csv_text = (out / "statement_2026-01.csv").read_text()
    assert "pair,2026-01,110000,440000,1,123.45,111.10,12.35" in csv_text
    for name in ("flows", "net"):
        assert (out / f"{name}_2026-01.svg").read_text().startswith("<?xml")
        assert (out / f"{name}_2026-01.png").read_bytes().startswith(b"\x89PNG")
    monkeypatch.setattr("medsettle.clearing_run.Clock", lambda: FixedClock.at("2026-02-01T09:00:00"))
    assert cli_main(["clearing", "run", "--month", "2026-01", "--data-dir", data_dir, "--out", str(out),
                     "--close"]) == 0
    assert "(closed)" in capsys.readouterr().out
    assert cli_main(["clearing", "run", "--month", "2026-02", "--data-dir", data_dir, "--close"]) == 1


def test_only_a_month_that_has_ended_closes(store):
    with store.write() as view:
        for today in ("2026-01-31", "2025-12-01"):
            with pytest.raises(Refusal) as refused:
                clearing_book.close_month(view, "2026-01", today=today, now_ms=0)
            assert refused.value.reason is reasons.MONTH_NOT_CLOSABLE and refused.value.field == "month"
        assert view.closed_month("2026-01") is None
