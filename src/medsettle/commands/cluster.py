"""`medsettle cluster ...`: run a sharded nation on one machine (cluster/up.py), write Envoy's configuration and the
Kubernetes manifests from a shard map, add a shard offline, and gather what every shard holds a part of (the monthly
statement, the supervision statistics and flags, the prepaid-fund alerts, the audit trail)."""

from __future__ import annotations

import json
import os
import pathlib
import sys

from medsettle import exits


def register(commands) -> None:
    """Register `cluster` and its subcommands on the `medsettle` parser's subcommands."""
    from medsettle.cluster import up
    from medsettle.commands import data

    cluster = commands.add_parser("cluster", help="shards by insured province behind Envoy (docs/operations.md)")
    sub = cluster.add_subparsers(dest="cluster_command", required=True)

    start = sub.add_parser("up", help="N shard servers and Envoy on this machine, mutual TLS, the demo nation seeded "
                                      "into empty shards")
    start.add_argument("--shards", type=int, required=True, help="how many shards (1 to 32)")
    start.add_argument("--cluster-dir", default=os.environ.get("MEDSETTLE_CLUSTER_DIR", "./cluster"),
                       help="shard map, certificates, stores and logs (env MEDSETTLE_CLUSTER_DIR)")
    start.add_argument("--listen", default="127.0.0.1:50051", help="where Envoy serves callers (mutual TLS)")
    start.add_argument("--shard-port", type=int, default=up.SHARD_PORT_DEFAULT,
                       help="shard i listens on 127.0.0.1:(this + i)")
    start.add_argument("--admin-listen", default=up.ADMIN_LISTEN_DEFAULT, help="Envoy's admin endpoint (loopback)")
    start.add_argument("--map-size-gib", type=float, default=8.0, help="each shard's LMDB map size")
    start.add_argument("--respawn-delay-s", type=float, default=up.RESPAWN_DELAY_S_DEFAULT,
                       help="how long a shard or Envoy that died stays down before it is started again")
    start.add_argument("--envoy-concurrency", type=int, default=1, help="Envoy's worker threads")
    start.add_argument("--no-seed", action="store_true", help="leave empty shards empty")
    start.add_argument("--shard-store", default="", metavar="LOCATION",
                       help="each shard's store: a location with {shard} or {index} in it, e.g. "
                            "postgresql://medsettle@db/medsettle_{index} (the databases must exist); default LMDB in "
                            "the cluster directory")
    data.add_seed_flags(start)
    start.set_defaults(run=lambda args: up.run(up.Options(
        data_dir=args.cluster_dir, shards=args.shards, listen=args.listen, shard_port=args.shard_port,
        admin_listen=args.admin_listen, map_size_gib=args.map_size_gib, seed=not args.no_seed,
        respawn_delay_s=args.respawn_delay_s, envoy_concurrency=args.envoy_concurrency, shard_store=args.shard_store,
        seed_args=dict(seed=args.seed, items_per_province=100_000 if args.millions else args.items_per_province,
                       persons_per_province=args.persons_per_province, today=data.DEMO_TODAY,
                       audit_rules=not args.no_audit_rules))))

    config = sub.add_parser("envoy-config", help="Envoy's configuration from a shard map (JSON, which Envoy reads)")
    config.add_argument("--shard-map", required=True)
    config.add_argument("--listen", default="0.0.0.0:50051")
    config.add_argument("--admin-listen", default=up.ADMIN_LISTEN_DEFAULT)
    config.set_defaults(run=_envoy_config)

    manifests = sub.add_parser("manifests", help="deploy/kubernetes/ from a shard map: a StatefulSet per shard, Envoy, "
                                                 "Services, PodDisruptionBudgets")
    manifests.add_argument("--shards", type=int, default=0, help="split the provinces into this many shards")
    manifests.add_argument("--shard-map", default="", help="or: use this map")
    manifests.add_argument("--out", required=True, help="directory for the YAML files")
    manifests.set_defaults(run=_manifests)

    split = sub.add_parser("split", help="add a shard taking provinces of a stopped one (offline; its store starts "
                                         "as a copy): writes the new map")
    split.add_argument("--shard-map", required=True, help="the map now")
    split.add_argument("--shard", required=True, help="the shard that gives provinces (stopped)")
    split.add_argument("--shard-dir", required=True, help="its store's directory")
    split.add_argument("--provinces", required=True, help="comma-separated: the provinces the new shard takes")
    split.add_argument("--new-shard", required=True, help="the new shard's name (added at the end of the map)")
    split.add_argument("--new-shard-dir", required=True, help="an empty directory for the new shard's store")
    split.add_argument("--new-address", default="", help="host:port where Envoy will reach the new shard")
    split.add_argument("--out", required=True, help="where to write the new map")
    split.set_defaults(run=_split)

    statement = sub.add_parser("statement", help="a month's clearing statement gathered from every shard "
                                                 "(national): the same bytes one host would make")
    statement.add_argument("--month", required=True, help="YYYY-MM")
    statement.add_argument("--shard-map", required=True)
    statement.add_argument("--close", action="store_true", help="each shard closes its part first (a past month)")
    statement.add_argument("--out", default="", help="write the canonical bytes to this file")
    statement.set_defaults(run=_statement)

    # Supervision gathered from every shard (cluster/supervision_gather.py), as the caller may see it on each.
    stats = sub.add_parser("stats", help="supervision statistics gathered from every shard (GetSupervisionStats "
                                         "as one host would answer; default caller national:ops, --as to change)")
    flags = sub.add_parser("flags", help="flags gathered from every shard, oldest first (ListFlags to its end)")
    for gathering in (stats, flags):
        gathering.add_argument("--shard-map", required=True)
        gathering.add_argument("--begndate", default="", help="YYYY-MM-DD (default: see the RPC)")
        gathering.add_argument("--enddate", default="", help="YYYY-MM-DD (default: today)")
        # Filters (the RPC's mdtrtarea_admvs, insuplc_admdvs, fixmedins_code; the global --insuplc-admdvs routes a
        # call about one person, which a gathering is not).
        gathering.add_argument("--treated-province", default="", help="province of treatment, xx0000")
        gathering.add_argument("--insured-province", default="", help="insured province, xx0000")
        gathering.add_argument("--institution", default="", help="fixmedins_code")
    stats.add_argument("--institutions", type=int, default=0, help="the busiest institutions listed (default 50)")
    stats.set_defaults(run=_stats)
    flags.add_argument("--rule-id", default="")
    flags.add_argument("--status", default="", help="OPEN, CLEARED or CONFIRMED")
    flags.add_argument("--max", type=int, default=10_000, help="flags at most (default 10,000)")
    flags.set_defaults(run=_flags)

    # Prepaid-fund alerts and the audit trail gathered from every shard (cluster/records_gather.py).
    alerts = sub.add_parser("alerts", help="prepaid-fund alerts gathered from every shard, each province's from its "
                                           "owner (ListPrepaidAlerts; default caller national:clearing)")
    alerts.add_argument("--shard-map", required=True)
    alerts.add_argument("--insured-province", default="", help="one insured province, xx0000 (default: all)")
    alerts.set_defaults(run=_alerts)
    audit = sub.add_parser("audit", help="every shard's audit trail, each entry with its shard, oldest first "
                                         "(ListAuditEntries; default caller national:ops)")
    audit.add_argument("--shard-map", required=True)
    audit.add_argument("--since", default="", help="entries committed at or after this time (ISO 8601, e.g. "
                                                   "2026-12-01T00:00:00+08:00)")
    audit.add_argument("--method", default="", help="one RPC, e.g. PutPolicies")
    audit.add_argument("--who", default="", help="one caller, medsettle:<kind>:<id>")
    audit.add_argument("--limit", type=int, default=0, help="entries in all (default 100, at most 1,000)")
    audit.set_defaults(run=_audit)


def _shard_map(path: str):
    from medsettle.domain import shards

    return shards.parse(pathlib.Path(path).read_bytes())


def _envoy_config(args) -> int:
    from medsettle import certs
    from medsettle.cluster import envoy
    from medsettle.service.identity import PROXY, Caller

    if not args.tls_dir:
        raise exits.CommandError("give --tls-dir: where Envoy finds ca.pem, server.pem and proxy-envoy.pem")
    tls = pathlib.Path(args.tls_dir)
    proxy_cert, proxy_key = certs.caller_files(Caller(PROXY, envoy.PROXY_NAME))
    files = envoy.TlsFiles(ca=str(tls / certs.CA_FILE), server_cert=str(tls / certs.SERVER_FILE),
                           server_key=str(tls / certs.SERVER_KEY_FILE), proxy_cert=str(tls / proxy_cert),
                           proxy_key=str(tls / proxy_key))
    shard_map = _shard_map(args.shard_map)
    sys.stdout.write(envoy.render(envoy.config(shard_map, files, listen=args.listen, admin_listen=args.admin_listen)))
    return exits.OK


def _manifests(args) -> int:
    from medsettle.cluster import kubernetes
    from medsettle.domain import shards

    if bool(args.shards) == bool(args.shard_map):
        raise exits.CommandError("give --shards N or --shard-map FILE")
    shard_map = _shard_map(args.shard_map) if args.shard_map else shards.split(args.shards)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, objects in kubernetes.manifests(shard_map).items():
        (out / name).write_text(kubernetes.render(objects), encoding="utf-8")
        print(out / name)
    return exits.OK


def _split(args) -> int:
    from medsettle.cluster import split
    from medsettle.domain import shards

    try:
        shard_map = _shard_map(args.shard_map)
        after = split.new_map(shard_map, args.shard, tuple(p.strip() for p in args.provinces.split(",") if p.strip()),
                              args.new_shard, args.new_address)
        split.copy_store(args.shard_dir, args.new_shard_dir)
        for name, directory in ((args.shard, args.shard_dir), (args.new_shard, args.new_shard_dir)):
            print(f"{name}: {split.rehome(directory, after, name):,} persons of the other shard kept as directory "
                  f"entries only")
    except (OSError, shards.ShardMapError, split.SplitRefused) as error:
        raise exits.CommandError(str(error)) from None
    pathlib.Path(args.out).write_bytes(shards.encode(after))
    print(f"{args.new_shard} takes {args.provinces} from {args.shard}; its store is {args.new_shard_dir}; the new map "
          f"is {args.out}: start every shard with it and roll out Envoy's configuration generated from it")
    return exits.OK


def _statement(args) -> int:
    import secrets

    from medsettle.cluster import fanout
    from medsettle.domain import clearing

    if not clearing.is_month(args.month):
        raise exits.CommandError(f"--month must be YYYY-MM, got {args.month!r}")
    close_id = f"close-{args.month}-{secrets.token_hex(4)}" if args.close else ""
    found = gathered(args, "national:clearing", f"statement {args.month}: ",
                     lambda channel, shard_map: fanout.statement(channel, shard_map.names, args.month,
                                                                 close_request_id=close_id))
    for shard, digest in found.parts.items():
        print(f"{shard}: part digest {digest}")
    for position in found.statement.positions:
        print(f"  {position.admdvs} receivable {position.receivable_fen:>14,} payable {position.payable_fen:>14,} "
              f"net {position.net_fen:>14,} fen")
    print(f"statement {args.month}{' (closed)' if found.closed else ''}: {len(found.statement.pairs)} pairs, "
          f"digest {found.digest}")
    if args.out:
        pathlib.Path(args.out).write_bytes(found.canonical)
    return exits.OK


def gathered(args, default_caller: str, what: str, gather):
    """`gather(channel, shard_map)` as the caller (--as, else `default_caller`); a shard that could not answer is one
    line naming the shards that did (a refusal is cli.py's one line, as for any call)."""
    from medsettle import connect
    from medsettle.cluster import fanout

    with connect.channel(args, default_caller) as channel:
        try:
            return gather(channel, _shard_map(args.shard_map))
        except fanout.NotEverywhere as partial:
            raise exits.CommandError(f"{what}{partial}", exits.REFUSED) from None


def _stats(args) -> int:
    from medsettle import client
    from medsettle.cluster import supervision_gather
    from medsettle.domain.money import format_fen
    from medsettle.v1 import supervision_pb2 as pb

    request = pb.GetSupervisionStatsRequest(
        begndate=args.begndate, enddate=args.enddate, mdtrtarea_admvs=args.treated_province,
        insuplc_admdvs=args.insured_province, fixmedins_code=args.institution, institutions_limit=args.institutions)
    found = gathered(args, "national:ops", "stats: ",
                     lambda channel, shard_map: supervision_gather.supervision_stats(channel, shard_map.names, request))
    if args.json:
        client.print_json(found.response)
    else:
        totals = found.response.totals
        print(f"settled {totals.setl_cnt:,}  reversed {totals.reversal_cnt:,}  refused {totals.refused_cnt:,} "
              f"(filing {totals.filing_refused_cnt:,})  direct settlement rate {totals.direct_settlement_rate / 100:.2f}%"
              f"  medfee {format_fen(totals.medfee_sumamt)}  fund {format_fen(totals.fund_pay_sumamt)} yuan  "
              f"flags {sum(c.count for c in totals.flags):,}  deducted {format_fen(totals.deducted)} yuan")
        for pair in found.response.by_pair:
            print(f"  {pair.mdtrtarea_admvs} <- {pair.insuplc_admdvs}  settled {pair.stats.setl_cnt:>8,}  refused "
                  f"{pair.stats.refused_cnt:>6,}  rate {pair.stats.direct_settlement_rate / 100:6.2f}%")
    if not found.complete:
        print(f"note: a shard listed {supervision_gather.INSTITUTIONS_ASKED} institutions: the busiest list may miss "
              f"some; narrow the period or filter by province", file=sys.stderr)
    return exits.OK


def _flags(args) -> int:
    from medsettle import client
    from medsettle.cluster import supervision_gather
    from medsettle.domain.money import format_fen
    from medsettle.v1 import supervision_pb2 as pb

    if not 0 < args.max <= supervision_gather.FLAGS_MAX_DEFAULT:
        raise exits.CommandError(f"--max must be 1..{supervision_gather.FLAGS_MAX_DEFAULT:,}")
    request = pb.ListFlagsRequest(
        mdtrtarea_admvs=args.treated_province, insuplc_admdvs=args.insured_province, fixmedins_code=args.institution,
        rule_id=args.rule_id, status=args.status, begndate=args.begndate, enddate=args.enddate)
    found = gathered(args, "national:ops", "flags: ",
                     lambda channel, shard_map: supervision_gather.flags(channel, shard_map.names, request, args.max))
    if args.json:
        client.print_json(pb.ListFlagsResponse(flags=found.flags))
    else:
        for flag in found.flags:
            print(f"{flag.flag_id}  {flag.flag_date}  {flag.status:<9} {flag.rule_id:<12} {flag.fixmedins_code}  "
                  f"{flag.mdtrtarea_admvs} <- {flag.insuplc_admdvs}  {format_fen(flag.amount)} yuan")
        print(f"{len(found.flags):,} flags")
    if not found.complete:
        print(f"note: stopped at --max {args.max:,}: there are more", file=sys.stderr)
    return exits.OK


def _alerts(args) -> int:
    from medsettle import client
    from medsettle.cluster import records_gather
    from medsettle.domain.money import format_fen
    from medsettle.v1 import clearing_pb2

    request = clearing_pb2.ListPrepaidAlertsRequest(insuplc_admdvs=args.insured_province)
    found = gathered(args, "national:clearing", "alerts: ",
                     lambda channel, shard_map: records_gather.prepaid_alerts(channel, shard_map, request))
    if args.json:
        client.print_json(found)
    else:
        for alert in found.alerts:
            print(f"{alert.insuplc_admdvs} {alert.year} {alert.month}  usage {alert.usage / 100:6.2f}% (threshold "
                  f"{alert.warn_threshold / 100:.2f}%)  balance {format_fen(alert.balance)} yuan"
                  f"{'  ACTIVE' if alert.active else ''}")
        print(f"{len(found.alerts):,} alerts")
    return exits.OK


def _audit(args) -> int:
    import datetime

    from google.protobuf import json_format

    from medsettle.cluster import records_gather
    from medsettle.v1 import reference_data_pb2

    request = reference_data_pb2.ListAuditEntriesRequest(method=args.method, who=args.who, limit=args.limit)
    if args.since:
        try:
            since = datetime.datetime.fromisoformat(args.since)
        except ValueError:
            raise exits.CommandError(f"--since must be an ISO 8601 time, got {args.since!r}") from None
        if since.tzinfo is None:
            raise exits.CommandError(f"--since needs its UTC offset (e.g. +08:00), got {args.since!r}")
        request.since.FromDatetime(since)
    found = gathered(args, "national:ops", "audit: ",
                     lambda channel, shard_map: records_gather.audit_entries(channel, shard_map.names, request))
    for each in found:
        if args.json:
            entry = json_format.MessageToDict(each.entry, preserving_proto_field_name=True)
            print(json.dumps({"shard": each.shard, **entry}, ensure_ascii=False))
        else:
            print(f"{each.shard}  {each.entry.when.ToDatetime(datetime.UTC).isoformat()}  {each.entry.who}  "
                  f"{each.entry.method}  {each.entry.request_id}  {each.entry.what}")
    if not args.json:
        print(f"{len(found):,} entries")
    return exits.OK
