"""`medsettle clearing run --month YYYY-MM`: a month's clearing statement straight from the store.

Prints a readable table (pairs, deductions and per-province positions, yuan with two decimals, full province
names), and writes into --out (default <data-dir>/clearing): statement_YYYY-MM.csv and two charts, each as PNG and
SVG, drawn with matplotlib (the `report` extra) in Noto Sans CJK: flows_YYYY-MM (a heat map of what each insured
province owes each province of treatment, every amount written in its cell, a colour bar) and net_YYYY-MM (each
province's net, receivable minus payable, with its amount). A month with nothing cleared is said to be empty and
gets no charts. With --close, closes the month first (refused for the current or a future month). No server
needed: LMDB's own lock serializes this writer with a running server's.
"""

from __future__ import annotations

import csv
import io
import pathlib
import sys
import unicodedata

from medsettle import exits
from medsettle.domain import clearing, region
from medsettle.domain.money import format_fen
from medsettle.domain.reasons import Refusal
from medsettle.service.clock import Clock
from medsettle.store import clearing_book
from medsettle.store.clearing_book import Book
from medsettle.store.open import open_store

CHART_FORMATS = ("png", "svg")
CELL_IN = 0.95  # a heat-map cell: wide enough for "1,234,567.89" in 7-point type
LABEL_COLUMN_IN = 0.06  # an 8-point label: inches per terminal column (a CJK character takes two)


def full_name(admdvs: str) -> str:
    """`新疆生产建设兵团 Xinjiang Production and Construction Corps`: never cut."""
    zh, en = region.PROVINCES.get(admdvs, ("", admdvs))
    return f"{zh} {en}".strip()


def _cols(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _label(admdvs: str) -> str:
    return f"{admdvs} {region.PROVINCES.get(admdvs, ('', admdvs))[1]}"


def yuan(fen: int) -> str:
    """Fen as yuan for reading, two decimals and thousands grouped: 112554058 -> "1,125,540.58"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def is_empty(book: Book) -> bool:
    return not book.statement.pairs and not book.statement.deductions


def table(book: Book) -> str:
    stmt = book.statement
    codes = {p.admdvs for p in stmt.positions}
    width = max((_cols(_label(code)) for code in codes), default=10) + 2  # the longest full name, never cut

    def cell(text: str) -> str:
        return text + " " * (width - _cols(text))

    out = io.StringIO()
    state = "closed" if book.closed is not None else "open"
    out.write(f"Clearing statement {stmt.month} ({state}), digest {book.digest[:16]}..., amounts in yuan\n\n")
    out.write(f"{cell('insured')}{cell('treated in')}{'count':>9} {'medfee_sumamt':>16} {'fund_pay_sumamt':>16} "
              f"{'acct_pay':>14} {'cleared':>16}\n")
    for p in stmt.pairs:
        out.write(f"{cell(_label(p.insuplc_admdvs))}{cell(_label(p.mdtrtarea_admvs))}{p.setl_cnt:>9,} "
                  f"{yuan(p.medfee_sumamt_fen):>16} {yuan(p.fund_pay_sumamt_fen):>16} "
                  f"{yuan(p.acct_pay_fen):>14} {yuan(p.fund_pay_sumamt_fen + p.acct_pay_fen):>16}\n")
    if stmt.deductions:
        out.write(f"\n{cell('deductions (拒付) of')}{cell('treated in')}{'count':>9} {'deducted':>16}\n")
        for d in stmt.deductions:
            out.write(f"{cell(_label(d.insuplc_admdvs))}{cell(_label(d.mdtrtarea_admvs))}{d.deduction_cnt:>9,} "
                      f"{yuan(d.deducted_fen):>16}\n")
    out.write(f"\n{cell('province')}{'receivable':>16} {'payable':>16} {'net':>16}\n")
    for pos in stmt.positions:
        out.write(f"{cell(_label(pos.admdvs))}{yuan(pos.receivable_fen):>16} {yuan(pos.payable_fen):>16} "
                  f"{yuan(pos.net_fen):>16}\n")
    out.write(f"{cell('sum of nets')}{'':>16} {'':>16} {yuan(sum(p.net_fen for p in stmt.positions)):>16}\n")
    return out.getvalue()


def write_csv(book: Book, path: pathlib.Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(["kind", "month", "insuplc_admdvs", "mdtrtarea_admvs", "setl_cnt", "medfee_sumamt",
                    "fund_pay_sumamt", "acct_pay", "receivable", "payable", "net", "deducted"])
        stmt = book.statement
        for p in stmt.pairs:
            w.writerow(["pair", stmt.month, p.insuplc_admdvs, p.mdtrtarea_admvs, p.setl_cnt,
                        format_fen(p.medfee_sumamt_fen), format_fen(p.fund_pay_sumamt_fen),
                        format_fen(p.acct_pay_fen), "", "", ""])
        for d in stmt.deductions:
            w.writerow(["deduction", stmt.month, d.insuplc_admdvs, d.mdtrtarea_admvs, d.deduction_cnt, "", "", "", "",
                        "", "", format_fen(d.deducted_fen)])
        for pos in stmt.positions:
            w.writerow(["province", stmt.month, pos.admdvs, "", "", "", "", "", format_fen(pos.receivable_fen),
                        format_fen(pos.payable_fen), format_fen(pos.net_fen)])


def owed_fen(book: Book) -> dict[tuple[str, str], int]:
    """(insured, treated) -> what the insured place owes after deductions: fund + account - deducted."""
    owed = {(p.insuplc_admdvs, p.mdtrtarea_admvs): p.fund_pay_sumamt_fen + p.acct_pay_fen
            for p in book.statement.pairs}
    for d in book.statement.deductions:
        pair = (d.insuplc_admdvs, d.mdtrtarea_admvs)
        owed[pair] = owed.get(pair, 0) - d.deducted_fen
    return {pair: amount for pair, amount in owed.items() if amount}


def chart_flows(plt, book: Book):
    """Rows: insured provinces; columns: provinces of treatment; each cell the yuan owed, written in it."""
    owed = owed_fen(book)
    insured = sorted({i for i, _ in owed})
    treated = sorted({t for _, t in owed})
    grid = [[owed.get((i, t), 0) / 100 for t in treated] for i in insured]  # display only: the text is format_fen
    # Room for the cells and for the full names around them (rotated below, level at the left), so that a small
    # matrix is not squeezed flat by one long name.
    row_label_in = LABEL_COLUMN_IN * max(_cols(full_name(i)) for i in insured)
    column_label_in = LABEL_COLUMN_IN * max(_cols(full_name(t)) for t in treated)
    fig, ax = plt.subplots(figsize=(max(10.0, row_label_in + CELL_IN * len(treated) + 1.8),
                                    1.4 + max(2.8, 0.42 * len(insured)) + 0.65 * column_label_in))
    peak = max(abs(v) for row in grid for v in row) or 1
    image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=peak, aspect="auto")
    for r, i in enumerate(insured):
        for c, t in enumerate(treated):
            fen = owed.get((i, t), 0)
            if fen:
                dark = abs(fen) / 100 > peak * 0.6
                ax.text(c, r, yuan(fen), ha="center", va="center", fontsize=7,
                        color="white" if dark else ("#b00020" if fen < 0 else "#111"))
    ax.set_xticks(range(len(treated)), [full_name(t) for t in treated], rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(insured)), [full_name(i) for i in insured], fontsize=8)
    ax.set_xlabel("就医地 province of treatment (receives)")
    ax.set_ylabel("参保地 insured province (pays)")
    state = "已关账 closed" if book.closed is not None else "未关账 open"
    ax.set_title(f"跨省清算 Clearing {book.statement.month} ({state}): 参保地应付就医地 (基金 + 个人账户 - 拒付), 元\n"
                 f"what each insured province owes each province of treatment (fund + account - deductions), yuan",
                 fontsize=10)
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, format=_axis_yuan())
    bar.set_label("元 yuan")
    return fig


def chart_net(plt, book: Book):
    positions = sorted((p for p in book.statement.positions if p.net_fen or p.receivable_fen or p.payable_fen),
                       key=lambda p: p.net_fen)
    fig, ax = plt.subplots(figsize=(12, 1.8 + 0.38 * max(1, len(positions))))
    nets = [p.net_fen / 100 for p in positions]  # display only: the labels are format_fen
    colors = ["#2a9d4b" if p.net_fen >= 0 else "#c8423b" for p in positions]
    bars = ax.barh(range(len(positions)), nets, color=colors)
    ax.bar_label(bars, labels=[yuan(p.net_fen) for p in positions], padding=3, fontsize=8)
    ax.xaxis.set_major_formatter(_axis_yuan())
    ax.set_yticks(range(len(positions)), [full_name(p.admdvs) for p in positions], fontsize=8)
    ax.axvline(0, color="#333", linewidth=0.8)
    ax.margins(x=0.18)
    ax.set_xlabel("元 yuan: 应收 receivable (as place of treatment) - 应付 payable (as insured place)")
    ax.set_title(f"各省净额 Net per province {book.statement.month} (the nets sum to "
                 f"{yuan(sum(p.net_fen for p in positions))})", fontsize=10)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color="#2a9d4b", label="净收 receives"), Patch(color="#c8423b", label="净付 pays")],
              loc="lower right", fontsize=8)
    return fig


def _axis_yuan():
    """Axis ticks in whole yuan with thousands grouped (never matplotlib's "1e6" offset)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:,.0f}")


CHARTS = (("flows", chart_flows), ("net", chart_net))


def draw(book: Book, out: pathlib.Path) -> list[pathlib.Path]:
    """Every chart as PNG and SVG; [] when matplotlib (the `report` extra) is missing."""
    from medsettle import report

    plt = report.pyplot()
    if plt is None:
        return []
    written = []
    for name, chart in CHARTS:
        fig = chart(plt, book)
        fig.tight_layout()
        for suffix in CHART_FORMATS:
            path = out / f"{name}_{book.statement.month}.{suffix}"
            fig.savefig(path, bbox_inches="tight", pad_inches=0.25)
            written.append(path)
        plt.close(fig)
    return written


def run(location: str, month: str, out_dir: str, close: bool, clock: Clock | None = None) -> int:
    """`location`: an LMDB data directory or a postgresql:// URL (store/open.py)."""
    if not clearing.is_month(month):
        raise exits.CommandError(f"--month must be YYYY-MM, got {month!r}")
    clock = clock or Clock()
    store = open_store(location, create=False)  # a mistyped --data-dir or URL is refused, not created
    try:
        if close:
            try:
                with store.write() as view:
                    # the operator at the store's own host, named as a national caller in the audit trail
                    result = clearing_book.close_month(view, month, clock.today(), clock.now_ms(),
                                                       who="medsettle:national:cli")
            except Refusal as refusal:
                raise exits.CommandError(f"{refusal}; not closing", exits.REFUSED) from None
            if result.already_closed:
                print(f"{month} was already closed")
            for alert in result.alerts:
                print(f"ALERT prepaid fund {alert.insuplc_admdvs}/{alert.year} usage {alert.usage_bp} bp "
                      f">= {alert.warn_threshold_bp} bp, balance {format_fen(alert.balance_fen)} yuan")
        with store.read() as view:
            book = clearing_book.book(view, month)
    finally:
        store.close()
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"statement_{month}.csv"
    write_csv(book, csv_path)
    if is_empty(book):
        print(f"{month}: nothing was cleared: no settlement, reversal or deduction is dated in that month (a "
              f"settlement counts in the month of its settlement date; today is {clock.today()}). Wrote the empty "
              f"statement {csv_path}; no charts.")
        return exits.OK
    print(table(book))
    charts = draw(book, out)
    if not charts:
        print("charts need matplotlib: pip install 'medsettle[report]'", file=sys.stderr)
    print(f"wrote {csv_path}" + "".join(f", {path}" for path in charts))
    return exits.OK
