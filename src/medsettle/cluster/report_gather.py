"""The month's supervision report of a sharded deployment (`medsettle report --shard-map`), from every shard's answers
through the proxy: the same tables and charts one host holding every settlement would draw (report.py).

- The figures are GetSupervisionStats over the month gathered from every shard (cluster/supervision_gather.py: rows
  added with the domain's own arithmetic): by day, by pair of provinces (each province's figures as place of
  treatment and as insured place are the pairs' sums, as report.gather adds one host's rows) and by institution.
  Each shard lists at most its 1,000 busiest institutions; when one lists that many, `complete` is False and the
  most-flagged institutions may miss some.
- The clearing flows are the month's statement gathered from every shard (fanout.statement): byte for byte the
  statement of one host.
- Institution names are reference data, which no RPC lists: the report names institutions by their codes, and
  report.name_institutions names them from a store holding the reference data (any shard's, `--names-from`).
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from medsettle.cluster import fanout, supervision_gather
from medsettle.report import MonthReport, month_days
from medsettle.store.clearing_book import Book
from medsettle.v1 import supervision_pb2


@dataclass(frozen=True)
class GatheredReport:
    report: MonthReport
    complete: bool  # False: a shard listed as many institutions as it may: the most-flagged may miss some


def gather(channel: grpc.Channel, shards: tuple[str, ...], month: str) -> GatheredReport:
    """The report of `month` from every shard, its institutions named by their codes."""
    found = MonthReport(month=month, days=month_days(month))
    asked = supervision_pb2.GetSupervisionStatsRequest(begndate=found.days[0], enddate=found.days[-1],
                                                       institutions_limit=supervision_gather.INSTITUTIONS_ASKED)
    gathered = supervision_gather.supervision_stats(channel, shards, asked)
    for day in gathered.response.by_day:
        supervision_gather.add_figures(found.by_day, day.date, day.stats)
    for pair in gathered.response.by_pair:
        supervision_gather.add_figures(found.by_treated, pair.mdtrtarea_admvs, pair.stats)
        supervision_gather.add_figures(found.by_insured, pair.insuplc_admdvs, pair.stats)
    for institution in gathered.response.by_institution:
        supervision_gather.add_figures(found.by_institution, institution.fixmedins_code, institution.stats)
    found.names = {code: code for code in found.by_institution}
    statement = fanout.statement(channel, shards, month)
    found.book = Book(statement=statement.statement, canonical=statement.canonical, digest=statement.digest)
    return GatheredReport(report=found, complete=gathered.complete)
