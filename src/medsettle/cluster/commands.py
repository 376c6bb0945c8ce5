"""`medsettle cluster ...`: run a sharded nation on one machine, write Envoy's configuration from a shard map, and
gather what every shard holds a part of (the monthly statement, an institution's reconciliation)."""

from __future__ import annotations

import os
import pathlib
import sys


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
    data.add_seed_flags(start)
    start.set_defaults(run=lambda args: up.run(up.Options(
        data_dir=args.cluster_dir, shards=args.shards, listen=args.listen, shard_port=args.shard_port,
        admin_listen=args.admin_listen, map_size_gib=args.map_size_gib, seed=not args.no_seed,
        respawn_delay_s=args.respawn_delay_s, envoy_concurrency=args.envoy_concurrency,
        seed_args=dict(seed=args.seed, items_per_province=100_000 if args.millions else args.items_per_province,
                       persons_per_province=args.persons_per_province, today=data.DEMO_TODAY,
                       audit_rules=not args.no_audit_rules))))

    config = sub.add_parser("envoy-config", help="Envoy's configuration from a shard map (JSON, which Envoy reads)")
    config.add_argument("--shard-map", required=True)
    config.add_argument("--listen", default="0.0.0.0:50051")
    config.add_argument("--admin-listen", default=up.ADMIN_LISTEN_DEFAULT)
    config.set_defaults(run=_envoy_config)

    statement = sub.add_parser("statement", help="a month's clearing statement gathered from every shard "
                                                 "(national): the same bytes one host would make")
    statement.add_argument("--month", required=True, help="YYYY-MM")
    statement.add_argument("--shard-map", required=True)
    statement.add_argument("--close", action="store_true", help="each shard closes its part first (a past month)")
    statement.add_argument("--out", default="", help="write the canonical bytes to this file")
    statement.set_defaults(run=_statement)


def _shard_names(path: str) -> tuple[str, ...]:
    from medsettle.domain import shards

    return shards.parse(pathlib.Path(path).read_bytes()).names


def _envoy_config(args) -> int:
    from medsettle import certs
    from medsettle.cluster import envoy
    from medsettle.domain import shards
    from medsettle.service.identity import PROXY, Caller

    if not args.tls_dir:
        print("give --tls-dir: where Envoy finds ca.pem, server.pem and proxy-envoy.pem", file=sys.stderr)
        return 2
    tls = pathlib.Path(args.tls_dir)
    proxy_cert, proxy_key = certs.caller_files(Caller(PROXY, envoy.PROXY_NAME))
    files = envoy.TlsFiles(ca=str(tls / certs.CA_FILE), server_cert=str(tls / certs.SERVER_FILE),
                           server_key=str(tls / certs.SERVER_KEY_FILE), proxy_cert=str(tls / proxy_cert),
                           proxy_key=str(tls / proxy_key))
    shard_map = shards.parse(pathlib.Path(args.shard_map).read_bytes())
    sys.stdout.write(envoy.render(envoy.config(shard_map, files, listen=args.listen, admin_listen=args.admin_listen)))
    return 0


def _statement(args) -> int:
    import secrets

    import grpc

    from medsettle import client, connect
    from medsettle.cluster import fanout
    from medsettle.domain import clearing

    if not clearing.is_month(args.month):
        print(f"--month must be YYYY-MM, got {args.month!r}", file=sys.stderr)
        return 2
    close_id = f"close-{args.month}-{secrets.token_hex(4)}" if args.close else ""
    with connect.channel(args, "national:clearing") as channel:
        try:
            found = fanout.statement(channel, _shard_names(args.shard_map), args.month, close_request_id=close_id)
        except fanout.NotEverywhere as partial:
            print(f"statement {args.month}: {partial}", file=sys.stderr)
            return 1
        except grpc.RpcError as error:
            client.print_error(error)
            return 1
    for shard, digest in found.parts.items():
        print(f"{shard}: part digest {digest}")
    for position in found.statement.positions:
        print(f"  {position.admdvs} receivable {position.receivable_fen:>14,} payable {position.payable_fen:>14,} "
              f"net {position.net_fen:>14,} fen")
    print(f"statement {args.month}{' (closed)' if found.closed else ''}: {len(found.statement.pairs)} pairs, "
          f"digest {found.digest}")
    if args.out:
        pathlib.Path(args.out).write_bytes(found.canonical)
    return 0

