"""Supervision across shards (service/placement.py: ListFlags and GetSupervisionStats are GATHER): each shard answers
for the settlements of its own insured provinces, and the answers are combined here into what one host holding the
whole nation would answer.

- Statistics are sums of per-day, per-pair and per-institution rows: every shard's figures are added with the
  domain's own `supervision_stats.add` and the answer is built from the sums as one host builds it
  (`supervision_convert.stats_response`: rates worked out again, never averaged; the busiest institutions ranked
  again). To rank them right each shard is asked for as many as it lists (INSTITUTIONS_ASKED); when a shard lists
  that many, the ranking past its list is not known, and `complete` says so.
- Flags are listed oldest first, in flag id order (an id begins with its date), as one host lists them: each shard
  is paged to the end (up to `flags_max` in all) and the lists merged.

Authorization is each shard's: the caller sees there what it would see on one host (a province its own flags).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import grpc

from medsettle.cluster.fanout import call_shard, every_shard
from medsettle.domain import supervision_stats as stats
from medsettle.service import supervision_convert as sc
from medsettle.service.supervision import FLAGS_PAGE_MAX, INSTITUTIONS_LISTED_DEFAULT, INSTITUTIONS_LISTED_MAX
from medsettle.v1 import supervision_pb2 as pb
from medsettle.v1 import supervision_pb2_grpc

INSTITUTIONS_ASKED = INSTITUTIONS_LISTED_MAX  # the most a shard lists
FLAGS_MAX_DEFAULT = 100_000


@dataclass(frozen=True)
class GatheredStats:
    response: pb.GetSupervisionStatsResponse
    complete: bool  # False: a shard listed INSTITUTIONS_ASKED institutions, so the busiest list may miss some


def add_figures(rows: dict, key, figures: pb.SupervisionStats) -> None:
    """An answer's figures added into `rows[key]` with the domain's own arithmetic."""
    rows[key] = stats.add(rows.get(key, stats.DayStats()), sc.stats_of_pb(figures))


def supervision_stats(channel: grpc.Channel, shards: tuple[str, ...],
                      request: pb.GetSupervisionStatsRequest) -> GatheredStats:
    """GetSupervisionStats over every shard, combined."""
    listed = request.institutions_limit or INSTITUTIONS_LISTED_DEFAULT
    asked = pb.GetSupervisionStatsRequest()
    asked.CopyFrom(request)
    asked.institutions_limit = INSTITUTIONS_ASKED
    stub = supervision_pb2_grpc.SupervisionServiceStub(channel)
    answers = every_shard(stub.GetSupervisionStats, asked, shards).values()
    by_day: dict[str, stats.DayStats] = {}
    by_pair: dict[tuple[str, str], stats.DayStats] = {}
    by_institution: dict[tuple[str, str], stats.DayStats] = {}
    for answer in answers:
        for day in answer.by_day:
            add_figures(by_day, day.date, day.stats)
        for pair in answer.by_pair:
            add_figures(by_pair, (pair.mdtrtarea_admvs, pair.insuplc_admdvs), pair.stats)
        for institution in answer.by_institution:
            add_figures(by_institution, (institution.fixmedins_code, institution.mdtrtarea_admvs), institution.stats)
    response = sc.stats_response(by_day, by_pair, by_institution, listed)
    return GatheredStats(response=response,
                         complete=all(len(answer.by_institution) < INSTITUTIONS_ASKED for answer in answers))


@dataclass(frozen=True)
class GatheredFlags:
    flags: list[pb.Flag]
    complete: bool  # False: flags_max was reached before every shard's last page


def _shard_flags(stub, request: pb.ListFlagsRequest, shard: str, flags_max: int) -> tuple[list[pb.Flag], bool]:
    found: list[pb.Flag] = []
    page = pb.ListFlagsRequest()
    page.CopyFrom(request)
    page.limit = FLAGS_PAGE_MAX
    while True:
        answer = call_shard(stub.ListFlags, page, shard)
        found.extend(answer.flags)
        if not answer.next_page_token:
            return found, True
        if len(found) >= flags_max:
            return found, False
        page.page_token = answer.next_page_token


def flags(channel: grpc.Channel, shards: tuple[str, ...], request: pb.ListFlagsRequest,
          flags_max: int = FLAGS_MAX_DEFAULT) -> GatheredFlags:
    """ListFlags over every shard (request.limit and page_token are the gathering's own), oldest first."""
    assert 0 < flags_max <= 10 * FLAGS_MAX_DEFAULT
    stub = supervision_pb2_grpc.SupervisionServiceStub(channel)
    lists, complete = [], True
    for shard in shards:
        found, whole = _shard_flags(stub, request, shard, flags_max)
        lists.append(found)
        complete = complete and whole
    merged = list(heapq.merge(*lists, key=lambda flag: flag.flag_id))  # ids begin with their date: one host's order
    return GatheredFlags(flags=merged[:flags_max], complete=complete and len(merged) <= flags_max)
