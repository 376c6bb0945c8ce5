"""`medsettle clearing run --month YYYY-MM`: a month's clearing statement straight from the store.

Prints a readable table (pairs and per-province positions, yuan with 2 decimals), writes
statement_YYYY-MM.csv and flows_YYYY-MM.svg (a heat map of pair flows and bars of net per province).
With --close, closes the month first (refused for the current or a future month). No server needed:
LMDB's own lock serializes this writer with a running server's.
"""

from __future__ import annotations

import csv
import html
import io
import pathlib
import sys

from medsettle.domain import clearing, region
from medsettle.domain.money import format_fen
from medsettle.domain.reasons import Refusal
from medsettle.service.clock import Clock
from medsettle.store import clearing_book
from medsettle.store.clearing_book import Book
from medsettle.store.env import Store, StoreConfig


def _name(admdvs: str) -> str:
    return region.PROVINCES.get(admdvs, ("", admdvs))[1]


def table(book: Book) -> str:
    stmt = book.statement
    out = io.StringIO()
    state = "closed" if book.closed is not None else "open"
    out.write(f"Clearing statement {stmt.month} ({state}), digest {book.digest[:16]}...\n\n")
    out.write(f"{'insured':<22} {'treated in':<22} {'count':>9} {'medfee_sumamt':>16} {'fund_pay_sumamt':>16} "
              f"{'acct_pay':>14} {'cleared':>16}\n")
    for p in stmt.pairs:
        out.write(f"{p.insuplc_admdvs + ' ' + _name(p.insuplc_admdvs):<22.22} "
                  f"{p.mdtrtarea_admvs + ' ' + _name(p.mdtrtarea_admvs):<22.22} {p.setl_cnt:>9,} "
                  f"{format_fen(p.medfee_sumamt_fen):>16} {format_fen(p.fund_pay_sumamt_fen):>16} "
                  f"{format_fen(p.acct_pay_fen):>14} {format_fen(p.fund_pay_sumamt_fen + p.acct_pay_fen):>16}\n")
    if stmt.deductions:
        out.write(f"\n{'deductions (拒付) insured':<22} {'treated in':<22} {'count':>9} {'deducted':>16}\n")
        for d in stmt.deductions:
            out.write(f"{d.insuplc_admdvs + ' ' + _name(d.insuplc_admdvs):<22.22} "
                      f"{d.mdtrtarea_admvs + ' ' + _name(d.mdtrtarea_admvs):<22.22} {d.deduction_cnt:>9,} "
                      f"{format_fen(d.deducted_fen):>16}\n")
    out.write(f"\n{'province':<22} {'receivable':>16} {'payable':>16} {'net':>16}\n")
    for pos in stmt.positions:
        out.write(f"{pos.admdvs + ' ' + _name(pos.admdvs):<22.22} {format_fen(pos.receivable_fen):>16} "
                  f"{format_fen(pos.payable_fen):>16} {format_fen(pos.net_fen):>16}\n")
    out.write(f"{'sum of nets':<22} {'':>16} {'':>16} {format_fen(sum(p.net_fen for p in stmt.positions)):>16}\n")
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


CELL, LABEL, BAR_H, BAR_W = 22, 130, 16, 260


def svg(book: Book) -> str:
    """Heat map: rows insured provinces, columns provinces of treatment, shade by amount cleared;
    then bars of net per province (green receives, red pays)."""
    stmt = book.statement
    codes = [pos.admdvs for pos in stmt.positions]
    flows = {(p.insuplc_admdvs, p.mdtrtarea_admvs): p.fund_pay_sumamt_fen + p.acct_pay_fen for p in stmt.pairs}
    peak = max((abs(v) for v in flows.values()), default=0) or 1
    n = len(codes)
    grid_top = 60 + LABEL
    bars_top = grid_top + n * CELL + 40
    width = max(LABEL + n * CELL + 20, LABEL + 2 * BAR_W + 120)
    height = bars_top + n * (BAR_H + 4) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="10" y="20" font-size="14">Clearing {html.escape(stmt.month)}: fund + account owed</text>',
             f'<text x="10" y="38" font-size="12">insured province (rows) to province of treatment (columns); '
             f'darkest = {format_fen(peak)} yuan</text>']
    for j, code in enumerate(codes):
        x = LABEL + j * CELL + CELL // 2
        parts.append(f'<text x="{x}" y="{grid_top - 6}" transform="rotate(-60 {x} {grid_top - 6})">'
                     f'{html.escape(_name(code))}</text>')
    for i, insured in enumerate(codes):
        y = grid_top + i * CELL
        parts.append(f'<text x="{LABEL - 6}" y="{y + 15}" text-anchor="end">{html.escape(_name(insured))}</text>')
        for j, treated in enumerate(codes):
            value = flows.get((insured, treated), 0)
            shade = int(255 - 200 * abs(value) / peak)
            fill = f"rgb({shade},{shade},255)" if value >= 0 else f"rgb(255,{shade},{shade})"
            parts.append(f'<rect x="{LABEL + j * CELL}" y="{y}" width="{CELL - 1}" height="{CELL - 1}" fill="{fill}">'
                         f'<title>{insured} to {treated}: {format_fen(value)} yuan</title></rect>')
    net_peak = max((abs(p.net_fen) for p in stmt.positions), default=0) or 1
    axis = LABEL + BAR_W
    parts.append(f'<text x="10" y="{bars_top - 12}" font-size="13">Net per province (receivable - payable), '
                 f'yuan</text>')
    for i, pos in enumerate(stmt.positions):
        y = bars_top + i * (BAR_H + 4)
        length = int(BAR_W * abs(pos.net_fen) / net_peak)
        x = axis if pos.net_fen >= 0 else axis - length
        color = "#2a9d4b" if pos.net_fen >= 0 else "#c8423b"
        parts.append(f'<text x="{LABEL - 6}" y="{y + 12}" text-anchor="end">{html.escape(_name(pos.admdvs))}</text>')
        parts.append(f'<rect x="{x}" y="{y}" width="{max(length, 1)}" height="{BAR_H}" fill="{color}"/>')
        parts.append(f'<text x="{axis + BAR_W + 8}" y="{y + 12}">{format_fen(pos.net_fen)}</text>')
    parts.append(f'<line x1="{axis}" y1="{bars_top - 4}" x2="{axis}" y2="{height - 20}" stroke="#333"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def run(data_dir: str, month: str, out_dir: str, close: bool, clock: Clock | None = None) -> int:
    if not clearing.is_month(month):
        print(f"--month must be YYYY-MM, got {month!r}", file=sys.stderr)
        return 2
    clock = clock or Clock()
    store = Store(StoreConfig(path=data_dir, create=False))  # a mistyped --data-dir is refused, not created
    try:
        if close:
            try:
                with store.write() as view:
                    # the operator at the store's own host, named as a national caller in the audit trail
                    result = clearing_book.close_month(view, month, clock.today(), clock.now_ms(),
                                                       who="medsettle:national:cli")
            except Refusal as refusal:
                print(f"{refusal}; not closing", file=sys.stderr)
                return 1
            if result.already_closed:
                print(f"{month} was already closed")
            for alert in result.alerts:
                print(f"ALERT prepaid fund {alert.insuplc_admdvs}/{alert.year} usage {alert.usage_bp} bp "
                      f">= {alert.warn_threshold_bp} bp, balance {format_fen(alert.balance_fen)} yuan")
        with store.read() as view:
            book = clearing_book.book(view, month)
    finally:
        store.close()
    print(table(book))
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, svg_path = out / f"statement_{month}.csv", out / f"flows_{month}.svg"
    write_csv(book, csv_path)
    svg_path.write_text(svg(book), encoding="utf-8")
    print(f"wrote {csv_path} and {svg_path}")
    return 0
