"""`medsettle serve`, `up`, `certs init` and `health`: running a server and asking it how it is."""

from __future__ import annotations

import argparse
import pathlib
import sys

from medsettle import exits, tracing
from medsettle.commands import env, number

UP_METRICS_LISTEN = "127.0.0.1:9464"  # Prometheus's conventional exporter port
LISTEN_DEFAULT = "127.0.0.1:50051"
PERSON_LOOKUPS_DEFAULT = 120
# The callers `medsettle up` makes certificates for on first start (institutions' are made on first use by
# `medsettle call`, from the development CA beside them).
DEV_NATIONAL_CALLERS = ("ops", "clearing")


def register(commands) -> None:
    from medsettle.commands import data

    serve = commands.add_parser("serve", help="serve gRPC on the data directory (mutual TLS with --tls-dir, or "
                                              "--insecure on loopback)")
    add_server_flags(serve)
    serve.add_argument("--create", action="store_true",
                       help="start an empty store when the data directory holds none (without it, a directory "
                            "with no store is refused: a mistyped --data-dir must not look like an empty nation)")
    serve.set_defaults(run=cmd_serve)

    up = commands.add_parser("up", help="seed the demo nation if the data directory is empty, make its development "
                                        "certificates (<data-dir>/tls) if missing, then serve mutual TLS")
    add_server_flags(up)
    up.set_defaults(metrics_listen=env("MEDSETTLE_METRICS_LISTEN", UP_METRICS_LISTEN))
    data.add_seed_flags(up)
    up.set_defaults(run=cmd_up)

    certs = commands.add_parser("certs", help="certificates for mutual TLS")
    certs_commands = certs.add_subparsers(dest="certs_command", required=True)
    certs_init = certs_commands.add_parser("init", help="a development CA (made once, then reused) and certificates "
                                                        "of the server and the callers named")
    certs_init.add_argument("--out", required=True, help="directory (ca.pem, ca-key.pem, server.pem, ...)")
    certs_init.add_argument("--institution", action="append", default=[], metavar="CODE")
    certs_init.add_argument("--province", action="append", default=[], metavar="ADMDVS")
    certs_init.add_argument("--national", action="append", default=[], metavar="NAME")
    certs_init.set_defaults(run=cmd_certs_init)

    health = commands.add_parser("health", help="ask a server's health service (exit 0 SERVING, 1 not, 3 no answer)")
    health.add_argument("--service", default="")
    health.add_argument("--timeout-s", type=float, default=3.0)
    health.set_defaults(run=cmd_health)


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    from medsettle import server, supervisor
    from medsettle.commands import data

    data.add_map_size(parser)
    parser.add_argument("--listen", default=env("MEDSETTLE_LISTEN", LISTEN_DEFAULT),
                        help="host:port to serve on (env MEDSETTLE_LISTEN)")
    parser.add_argument("--workers", type=number(int, 1, supervisor.WORKERS_MAX, "MEDSETTLE_WORKERS"),
                        default=env("MEDSETTLE_WORKERS", "1"),
                        help="worker processes sharing the port (env MEDSETTLE_WORKERS)")
    parser.add_argument("--grace-s", type=number(float, 0, 600, "MEDSETTLE_GRACE_S"),
                        default=env("MEDSETTLE_GRACE_S", str(server.GRACE_S_DEFAULT)),
                        help="on SIGTERM, how long accepted calls get to finish (env MEDSETTLE_GRACE_S)")
    parser.add_argument("--drain-s", type=number(float, 0, 600, "MEDSETTLE_DRAIN_S"),
                        default=env("MEDSETTLE_DRAIN_S", str(server.DRAIN_S_DEFAULT)),
                        help="on SIGTERM, how long to keep answering while health says NOT_SERVING, before "
                             "refusing new calls (env MEDSETTLE_DRAIN_S)")
    parser.add_argument("--idle-s", type=number(float, 1, 86_400, "MEDSETTLE_IDLE_S"),
                        default=env("MEDSETTLE_IDLE_S", str(server.IDLE_S_DEFAULT)),
                        help="close a connection idle this long (env MEDSETTLE_IDLE_S)")
    parser.add_argument("--metrics-listen", default=env("MEDSETTLE_METRICS_LISTEN", ""),
                        help="HOST:PORT to serve Prometheus metrics on (env MEDSETTLE_METRICS_LISTEN; "
                             "default off, `up`: 127.0.0.1:9464)")
    parser.add_argument("--trace", choices=("off", "console", "otlp"), default=env("MEDSETTLE_TRACE", "off"),
                        help="OpenTelemetry spans of every call: to stderr, or OTLP/gRPC to "
                             "OTEL_EXPORTER_OTLP_ENDPOINT (env MEDSETTLE_TRACE; default off; the `trace` extra)")
    parser.add_argument("--log-calls", action="store_true", help="one JSON log line per successful call too")
    parser.add_argument("--writer-thread-only", action="store_true",
                        default=env("MEDSETTLE_WRITER_THREAD_ONLY", "") == "1",
                        help="LMDB: commit outpatient settlements on the worker's writer thread too, not in its "
                             "writer process (env MEDSETTLE_WRITER_THREAD_ONLY=1; docs/operations.md)")
    parser.add_argument("--person-lookups-per-minute", type=number(int, 1, 1_000_000,
                                                                   "MEDSETTLE_PERSON_LOOKUPS_PER_MINUTE"),
                        default=env("MEDSETTLE_PERSON_LOOKUPS_PER_MINUTE", str(PERSON_LOOKUPS_DEFAULT)),
                        help="an institution's person look-ups a minute, per worker (env "
                             "MEDSETTLE_PERSON_LOOKUPS_PER_MINUTE)")
    parser.add_argument("--shard-map", default=env("MEDSETTLE_SHARD_MAP", ""),
                        help="serve as one shard of this map (JSON, docs/operations.md; env MEDSETTLE_SHARD_MAP)")
    parser.add_argument("--shard", default=env("MEDSETTLE_SHARD", ""),
                        help="which shard of --shard-map this server is (env MEDSETTLE_SHARD)")


def _server_config(args):
    from medsettle.server import ServerConfig

    return ServerConfig(data_dir=args.data_dir, store=args.store, listen=args.listen, workers=args.workers, grace_s=args.grace_s,
                        drain_s=args.drain_s, idle_s=args.idle_s, map_size_bytes=int(args.map_size_gib * 2**30),
                        log_calls=args.log_calls, create=getattr(args, "create", False),
                        metrics_listen=args.metrics_listen, tls_dir="" if args.insecure else args.tls_dir,
                        person_lookups_per_minute=args.person_lookups_per_minute, trace=args.trace,
                        shard_map=args.shard_map, shard=args.shard, writer_process=not args.writer_thread_only)


def cmd_serve(args) -> int:
    from medsettle.server import is_loopback
    from medsettle.supervisor import ServeRefused, serve

    if not args.insecure and not args.tls_dir:
        raise exits.CommandError("give --tls-dir DIR (mutual TLS; env MEDSETTLE_TLS_DIR) or --insecure (plaintext "
                                 "on a loopback address)")
    config = _server_config(args)
    try:
        tracing.check(config.trace)
    except tracing.TracingUnavailable as missing:
        raise exits.CommandError(str(missing)) from None
    if not config.tls_dir and ":" in config.listen and not is_loopback(config.listen):  # a malformed one: serve says
        raise ServeRefused(f"plaintext is served on a loopback address only, not {config.listen}: serve mutual TLS "
                           f"(--tls-dir) or listen on 127.0.0.1")
    return serve(config)


def cmd_up(args) -> int:
    """Seed the demo nation if the data directory is empty, make its development CA and certificates under the
    data directory if there are none, then serve mutual TLS."""
    from medsettle.commands import data

    store = data.open_store(args)
    try:
        if store.is_empty():
            data.seed_into(store, args)
    finally:
        store.close()
    args.create = True  # seeded or not, the store is there now
    if args.metrics_listen == UP_METRICS_LISTEN:  # the default of a trial: a busy port is no reason not to start
        from medsettle.supervisor import ServeRefused, probe_port

        try:
            probe_port(args.metrics_listen)
        except ServeRefused as busy:
            print(f"medsettle up: metrics off ({busy})", file=sys.stderr)
            args.metrics_listen = ""
    if not args.insecure:
        args.tls_dir = args.tls_dir or str(pathlib.Path(args.data_dir) / "tls")
        _dev_certificates(pathlib.Path(args.tls_dir))
    return cmd_serve(args)


def _dev_certificates(directory: pathlib.Path) -> None:
    from medsettle import certs
    from medsettle.domain import region
    from medsettle.service.identity import NATIONAL, PROVINCE, Caller

    callers = [Caller(NATIONAL, name) for name in DEV_NATIONAL_CALLERS]
    callers += [Caller(PROVINCE, province) for province in region.PROVINCES]
    written = certs.init(directory, callers)
    if written:
        print(f"development CA and certificates in {directory} ({len(written)} files)", file=sys.stderr)


def cmd_certs_init(args) -> int:
    from medsettle import certs
    from medsettle.service.identity import INSTITUTION, NATIONAL, PROVINCE, of

    try:
        callers = [of(f"{kind}:{value}") for kind, values in ((INSTITUTION, args.institution),
                                                              (PROVINCE, args.province), (NATIONAL, args.national))
                   for value in values]
    except ValueError as error:
        raise exits.CommandError(str(error)) from None
    written = certs.init(pathlib.Path(args.out), callers)
    for name in written:
        print(pathlib.Path(args.out) / name)
    print(f"{len(written)} files written; existing ones kept", file=sys.stderr)
    return exits.OK


def cmd_health(args) -> int:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from medsettle import connect

    with connect.channel(args, connect.OPERATOR) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=args.service),
                                                           timeout=args.timeout_s)
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    print(name)
    return exits.OK if name == "SERVING" else exits.REFUSED
