"""Prepaid-fund alerts and the audit trail across shards (service/placement.py: both are GATHER).

- Alerts: a prepaid fund belongs to its insured province, and the province's shard draws it when it closes its part
  of a month, so a province's alerts are its owner's. A shard split off another (`cluster split`) starts from a copy
  of the other's store, so the other still holds the alerts of the provinces it gave away, frozen at the split: each
  shard is believed only for the provinces the shard map gives it. The list is in one host's order (province, year,
  month).
- Audit entries: every shard keeps its own trail of the changes it committed. A push is applied by every shard, so
  it shows once per shard, which is what an operator checking that each shard has it wants to see: entries are
  listed with their shard, oldest first, `limit` in all (each shard is asked for `limit`, so none is missed).

Authorization is each shard's: the caller sees there what it would see on one host (a province its own alerts and
entries).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import grpc

from medsettle.cluster.fanout import every_shard
from medsettle.domain.shards import ShardMap
from medsettle.service.reference_data import AUDIT_PAGE_DEFAULT
from medsettle.v1 import clearing_pb2, clearing_pb2_grpc, reference_data_pb2, reference_data_pb2_grpc


def prepaid_alerts(channel: grpc.Channel, shard_map: ShardMap,
                   request: clearing_pb2.ListPrepaidAlertsRequest) -> clearing_pb2.ListPrepaidAlertsResponse:
    """ListPrepaidAlerts over every shard: each province's alerts from the shard that owns it."""
    stub = clearing_pb2_grpc.ClearingServiceStub(channel)
    owned = []
    for shard, answer in every_shard(stub.ListPrepaidAlerts, request, shard_map.names).items():
        provinces = shard_map.shard(shard).provinces
        owned.extend(alert for alert in answer.alerts if alert.insuplc_admdvs in provinces)
    owned.sort(key=lambda alert: (alert.insuplc_admdvs, alert.year, alert.month))
    return clearing_pb2.ListPrepaidAlertsResponse(alerts=owned)


@dataclass(frozen=True)
class ShardEntry:
    shard: str
    entry: reference_data_pb2.AuditEntry


def audit_entries(channel: grpc.Channel, shards: tuple[str, ...],
                  request: reference_data_pb2.ListAuditEntriesRequest) -> list[ShardEntry]:
    """ListAuditEntries over every shard, each entry with its shard, oldest first (then by shard), `request.limit`
    (the RPC's default when 0) in all."""
    stub = reference_data_pb2_grpc.ReferenceDataServiceStub(channel)
    answers = every_shard(stub.ListAuditEntries, request, shards)
    lists = [[ShardEntry(shard, entry) for entry in answer.entries] for shard, answer in answers.items()]
    merged = heapq.merge(*lists, key=lambda found: (found.entry.when.ToMilliseconds(), found.shard))
    return list(merged)[:request.limit or AUDIT_PAGE_DEFAULT]
