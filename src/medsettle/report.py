"""`medsettle report --month YYYY-MM --out DIR`: the month's supervision report (就医地管理), straight from the store.

Prints readable tables and writes them to DIR/report_YYYY-MM.txt, and draws five PNG charts with matplotlib: daily
volumes, refusals by cause, the direct settlement rate by province, the most-flagged institutions, and the month's
clearing flows with their deductions. Everything comes from what the settlements kept as they happened (the daily
statistics, the clearing aggregates): no scan of the ledger. No server needed: LMDB lets this read beside a running
one. Chinese names are set in Noto Sans CJK SC, shipped by the `mplfonts` package (the `report` extra).
"""

from __future__ import annotations

import io
import pathlib
import sys
import unicodedata
from dataclasses import dataclass, field

from medsettle.domain import clearing, dates, eligibility, reasons, region
from medsettle.domain import supervision_stats as stats
from medsettle.domain.money import format_fen
from medsettle.store import clearing_book
from medsettle.store.clearing_book import Book
from medsettle.store.open import open_store
from medsettle.store.view import View

STATS_ROWS_PER_DAY_MAX = 2_000_000
INSTITUTIONS_SHOWN = 15
PAIRS_SHOWN = 20
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
REASON_TEXT = {value.code: value.zh for value in vars(reasons).values() if isinstance(value, reasons.Reason)}


@dataclass
class MonthReport:
    month: str
    days: list[str]
    by_day: dict[str, stats.DayStats] = field(default_factory=dict)
    by_treated: dict[str, stats.DayStats] = field(default_factory=dict)
    by_insured: dict[str, stats.DayStats] = field(default_factory=dict)
    by_institution: dict[str, stats.DayStats] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # fixmedins_code -> name
    book: Book | None = None

    @property
    def totals(self) -> stats.DayStats:
        return stats.total(self.by_day.values())


def month_days(month: str) -> list[str]:
    first = f"{month}-01"
    days = [first]
    while clearing.month_of(dates.add_days(days[-1], 1)) == month:
        days.append(dates.add_days(days[-1], 1))
    return days


def gather(view: View, month: str) -> MonthReport:
    found = MonthReport(month=month, days=month_days(month))
    for day in found.days:
        for (treated, insured, code), row in view.stats_rows(day, STATS_ROWS_PER_DAY_MAX):
            for table, row_key in ((found.by_day, day), (found.by_treated, treated), (found.by_insured, insured),
                                   (found.by_institution, code)):
                table[row_key] = stats.add(table.get(row_key, stats.DayStats()), row)
    name_institutions(found, view)
    found.book = clearing_book.book(view, month)
    return found


def name_institutions(found: MonthReport, view: View) -> None:
    """Each institution of the report by its name in `view` (by its code when the view does not hold it)."""
    for code in found.by_institution:
        institution = view.institution(code)
        found.names[code] = institution.fixmedins_name if institution is not None else code


def _cols(text: str) -> int:
    """Terminal columns of a text: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _left(text: str, width: int) -> str:
    return text + " " * max(0, width - _cols(text))


def province_name(admdvs: str) -> str:
    return region.PROVINCES.get(admdvs, ("未知", "unknown"))[0]


def _flags(row: stats.DayStats) -> int:
    return sum(c.n for c in row.flags)


def _pct(bp: int) -> str:
    return f"{bp / 100:.2f}%"


def tables(report: MonthReport) -> str:
    out = io.StringIO()
    t = report.totals
    out.write(f"Supervision report {report.month} (就医地管理)\n\n")
    out.write(f"settled {t.setl_cnt:,}  reversed {t.reversal_cnt:,}  refused {t.refused_cnt:,}  direct settlement "
              f"rate {_pct(stats.direct_settlement_rate_bp(t))}  filing problems {_pct(stats.filing_share_bp(t))} "
              f"of refusals\nmedfee_sumamt {format_fen(t.medfee_sumamt_fen)} yuan  fund {format_fen(t.fund_pay_sumamt_fen)}"
              f" yuan  flags {_flags(t):,}  deductions {t.deduction_cnt:,} ({format_fen(t.deducted_fen)} yuan)\n\n")
    out.write("Daily volumes\n")
    out.write(f"{'date':<12}{'settled':>9}{'refused':>9}{'rate':>9}{'flags':>7}{'medfee_sumamt':>18}\n")
    for day in report.days:
        row = report.by_day.get(day)
        if row is not None:
            out.write(f"{day:<12}{row.setl_cnt:>9,}{row.refused_cnt:>9,}"
                      f"{_pct(stats.direct_settlement_rate_bp(row)):>9}{_flags(row):>7,}"
                      f"{format_fen(row.medfee_sumamt_fen):>18}\n")
    out.write("\nRefusals by cause (leading reason)\n")
    for count in sorted(t.refusals, key=lambda c: -c.n):
        filing = "filing" if count.code in eligibility.FILING_REASON_CODES else ""
        out.write(f"{count.code:<28}{count.n:>7,}  {filing:<7}{REASON_TEXT.get(count.code, '')}\n")
    out.write("\nDirect settlement rate by province\n")
    out.write(f"{'province':<26}{'as place of treatment':>26}{'as insured place':>26}\n")
    for code in sorted(set(report.by_treated) | set(report.by_insured)):
        cells = []
        for table in (report.by_treated, report.by_insured):
            row = table.get(code)
            cells.append(f"{_pct(stats.direct_settlement_rate_bp(row))} of {row.setl_cnt + row.refused_cnt:,}"
                         if row else "-")
        out.write(f"{_left(code + ' ' + province_name(code), 26)}{cells[0]:>26}{cells[1]:>26}\n")
    out.write("\nMost-flagged institutions\n")
    for code, row in _most_flagged(report):
        out.write(f"{code:<14}{_flags(row):>5} flags  {row.deduction_cnt:>3} deducted {format_fen(row.deducted_fen):>12}"
                  f"  {report.names[code]}  ({', '.join(f'{c.code}x{c.n}' for c in row.flags)})\n")
    out.write("\nClearing flows of the month (what the insured place owes, after deductions)\n")
    stmt = report.book.statement if report.book else None
    if stmt is not None:
        deducted = {(d.insuplc_admdvs, d.mdtrtarea_admvs): d for d in stmt.deductions}
        out.write(f"{'insured -> treated':<36}{'count':>7}{'fund+acct':>16}{'deducted':>14}{'owed':>16}\n")
        for pair, owed, cut in _flows(stmt)[:PAIRS_SHOWN * 2]:
            label = f"{province_name(pair[0])} -> {province_name(pair[1])}"
            count = next((p.setl_cnt for p in stmt.pairs if (p.insuplc_admdvs, p.mdtrtarea_admvs) == pair), 0)
            out.write(f"{_left(label, 36)}{count:>7,}{format_fen(owed + cut):>16}{format_fen(cut):>14}{format_fen(owed):>16}\n")
        out.write(f"deduction lines: {len(deducted)}; nets sum to {format_fen(sum(p.net_fen for p in stmt.positions))}"
                  f"; digest {report.book.digest[:16]}...\n")
    return out.getvalue()


def _most_flagged(report: MonthReport) -> list[tuple[str, stats.DayStats]]:
    flagged = [(code, row) for code, row in report.by_institution.items() if _flags(row)]
    return sorted(flagged, key=lambda kv: (-_flags(kv[1]), kv[0]))[:INSTITUTIONS_SHOWN]


def _flows(stmt: clearing.Statement) -> list[tuple[tuple[str, str], int, int]]:
    """((insured, treated), owed after deductions, deducted), largest first."""
    owed: dict[tuple[str, str], int] = {}
    cut: dict[tuple[str, str], int] = {}
    for p in stmt.pairs:
        owed[(p.insuplc_admdvs, p.mdtrtarea_admvs)] = p.fund_pay_sumamt_fen + p.acct_pay_fen
    for d in stmt.deductions:
        pair = (d.insuplc_admdvs, d.mdtrtarea_admvs)
        owed[pair] = owed.get(pair, 0) - d.deducted_fen
        cut[pair] = d.deducted_fen
    return sorted(((pair, amount, cut.get(pair, 0)) for pair, amount in owed.items()),
                  key=lambda x: (-(x[1] + x[2]), x[0]))


# -- charts ----------------------------------------------------------------------------------------------------------


def pyplot():
    """matplotlib (Agg) with the CJK font registered; None when the `report` extra is not installed."""
    try:
        from importlib.resources import files

        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import font_manager
        from matplotlib import pyplot as plt

        font_path = str(files("mplfonts") / "fonts" / CJK_FONT_FILE)
    except ImportError:
        return None
    font_manager.fontManager.addfont(font_path)
    family = font_manager.FontProperties(fname=font_path).get_name()
    plt.rcParams.update({"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"],
                         "axes.unicode_minus": False, "figure.dpi": 110, "savefig.dpi": 110})
    return plt


def _save(plt, fig, path: pathlib.Path) -> None:
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight", pad_inches=0.25)
    plt.close(fig)


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=12, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def chart_daily_volumes(plt, report: MonthReport, path: pathlib.Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 4.8))
    days = report.days
    settled = [report.by_day.get(d, stats.DayStats()).setl_cnt for d in days]
    refused = [report.by_day.get(d, stats.DayStats()).refused_cnt for d in days]
    flagged = [_flags(report.by_day.get(d, stats.DayStats())) for d in days]
    x = range(len(days))
    ax.bar(x, settled, color="#2a9d4b", label="直接结算 settled")
    ax.bar(x, refused, bottom=settled, color="#c8423b", label="拒绝 refused")
    ax.plot(x, flagged, color="#e39b17", marker="o", linewidth=1.5, label="疑点 flags")
    ax.set_xticks(list(x), [d[8:] for d in days], fontsize=8)
    ax.set_xlabel(f"{report.month} 日期 day")
    ax.set_ylabel("笔数 count")
    t = report.totals
    ax.set_title(f"跨省直接结算日交易量 Daily volumes {report.month}: 结算 {t.setl_cnt:,} 笔, 拒绝 {t.refused_cnt:,} 笔, "
                 f"直接结算率 {_pct(stats.direct_settlement_rate_bp(t))}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes: never over a bar
    ax.grid(axis="y", alpha=0.3)
    _save(plt, fig, path)


def chart_refusals(plt, report: MonthReport, path: pathlib.Path) -> None:
    causes = sorted(report.totals.refusals, key=lambda c: c.n)
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.45 * max(1, len(causes))))
    if not causes:
        _empty(ax, "本月无拒绝 no refusals this month")
    else:
        colors = ["#1f77b4" if c.code in eligibility.FILING_REASON_CODES else "#8c8c8c" for c in causes]
        labels = [f"{REASON_TEXT.get(c.code, c.code)}  {c.code}" for c in causes]
        bars = ax.barh(range(len(causes)), [c.n for c in causes], color=colors)
        ax.set_yticks(range(len(causes)), labels, fontsize=9)
        ax.bar_label(bars, padding=3, fontsize=9)
        ax.margins(x=0.12)
        ax.set_xlabel("拒绝笔数 refusals (leading reason)")
        share = stats.filing_share_bp(report.totals)
        ax.set_title(f"拒绝原因 Refusals by cause {report.month} — 备案问题(蓝) filing problems (blue): {_pct(share)}")
    _save(plt, fig, path)


def chart_rates(plt, report: MonthReport, path: pathlib.Path) -> None:
    provinces = sorted(code for code in set(report.by_treated) | set(report.by_insured) if code in region.PROVINCES)
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.42 * max(1, len(provinces))))
    if not provinces:
        _empty(ax, "本月无结算 no settlements this month")
    else:
        height = 0.4
        for offset, table, color, label in ((-height / 2, report.by_treated, "#2a9d4b", "作为就医地 as place of treatment"),
                                            (height / 2, report.by_insured, "#3b6fb6", "作为参保地 as insured place")):
            values = [stats.direct_settlement_rate_bp(table.get(p, stats.DayStats())) / 100 for p in provinces]
            bars = ax.barh([i + offset for i in range(len(provinces))], values, height=height, color=color,
                           label=label)
            ax.bar_label(bars, labels=[f"{v:.1f}%" if p in table else "" for p, v in zip(provinces, values, strict=True)],
                         padding=2, fontsize=8)
        ax.set_yticks(range(len(provinces)), [province_name(p) for p in provinces], fontsize=9)
        ax.invert_yaxis()
        ax.set_xlim(0, 112)
        ax.set_xlabel("直接结算率 direct settlement rate (%) = settled / (settled + refused)")
        ax.set_title(f"各省跨省直接结算率 Direct settlement rate by province {report.month}")
        ax.legend(loc="lower right", fontsize=9)
    _save(plt, fig, path)


def chart_flagged(plt, report: MonthReport, path: pathlib.Path) -> None:
    top = list(reversed(_most_flagged(report)))
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.45 * max(1, len(top))))
    if not top:
        _empty(ax, "本月无疑点 no flags this month")
    else:
        labels = [f"{report.names[code]} {code}" for code, _ in top]
        bars = ax.barh(range(len(top)), [_flags(row) for _, row in top], color="#e39b17")
        ax.set_yticks(range(len(top)), labels, fontsize=9)
        ax.bar_label(bars, labels=[f"{_flags(r)} 条, 拒付 {format_fen(r.deducted_fen)} 元" if r.deducted_fen else
                                   f"{_flags(r)} 条" for _, r in top], padding=3, fontsize=8)
        ax.margins(x=0.25)
        ax.set_xlabel("疑点数 flags raised this month")
        ax.set_title(f"疑点最多的定点医药机构 Most-flagged institutions {report.month}")
    _save(plt, fig, path)


def chart_clearing(plt, report: MonthReport, path: pathlib.Path) -> None:
    stmt = report.book.statement if report.book else None
    flows = _flows(stmt)[:PAIRS_SHOWN] if stmt else []
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 1.8 + 0.42 * max(8, len(flows))),
                                      gridspec_kw={"width_ratios": [3, 2]})
    if not flows:
        _empty(left, "本月无清算 nothing to clear this month")
        _empty(right, "")
    else:
        flows = list(reversed(flows))
        owed = [amount / 100 for _, amount, _ in flows]
        cut = [deducted / 100 for _, _, deducted in flows]
        labels = [f"{province_name(i)} → {province_name(t)}" for (i, t), _, _ in flows]
        left.barh(range(len(flows)), owed, color="#3b6fb6", label="应付 owed after deductions")
        left.barh(range(len(flows)), cut, left=owed, color="#c8423b", label="拒付 deducted")
        left.set_yticks(range(len(flows)), labels, fontsize=9)
        left.set_xlim(0, max(o + c for o, c in zip(owed, cut, strict=True)) * 1.08 or 1)
        left.set_xlabel("元 yuan (基金 + 个人账户 fund + account)")
        left.set_title(f"参保地 → 就医地 清算 Clearing flows {report.month}")
        left.legend(loc="lower right", fontsize=9)
        positions = sorted(stmt.positions, key=lambda p: p.net_fen)
        nets = [p.net_fen / 100 for p in positions]
        right.barh(range(len(positions)), nets, color=["#2a9d4b" if n >= 0 else "#c8423b" for n in nets])
        right.set_yticks(range(len(positions)), [province_name(p.admdvs) for p in positions], fontsize=9)
        right.axvline(0, color="#333", linewidth=0.8)
        right.set_xlabel("元 yuan: 应收 - 应付 receivable - payable")
        right.set_title("各省净额 Net per province (sums to 0)")
    _save(plt, fig, path)


CHARTS = (("daily_volumes", chart_daily_volumes), ("refusals_by_cause", chart_refusals),
          ("direct_settlement_rate", chart_rates), ("flagged_institutions", chart_flagged),
          ("clearing_flows", chart_clearing))


def run(location: str, month: str, out_dir: str) -> int:
    """The report of one store (a single host, or one shard)."""
    plt = checked(month)
    if plt is None:
        return 2
    store = open_store(location, create=False)  # a mistyped --data-dir or URL is refused, not created
    try:
        with store.read() as view:
            report = gather(view, month)
    finally:
        store.close()
    return write(plt, report, out_dir)


def checked(month: str):
    """pyplot when the month is well formed and matplotlib is installed; else None, having said why."""
    if not clearing.is_month(month):
        print(f"--month must be YYYY-MM, got {month!r}", file=sys.stderr)
        return None
    plt = pyplot()
    if plt is None:
        print("the report draws with matplotlib: pip install 'medsettle[report]'", file=sys.stderr)
    return plt


def write(plt, report: MonthReport, out_dir: str) -> int:
    """Print the tables; write them and the charts under out_dir."""
    month = report.month
    text = tables(report)
    print(text)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"report_{month}.txt").write_text(text, encoding="utf-8")
    for name, draw in CHARTS:
        draw(plt, report, out / f"{name}_{month}.png")
    print(f"wrote {out}/report_{month}.txt and {len(CHARTS)} charts: "
          f"{', '.join(f'{name}_{month}.png' for name, _ in CHARTS)}")
    return 0
