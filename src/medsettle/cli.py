"""The `medsettle` command: serve, seed a demo nation, check health, and make client calls.

Every flag also reads an environment variable (MEDSETTLE_DATA_DIR, MEDSETTLE_LISTEN, MEDSETTLE_WORKERS),
so the same command line works under systemd and in a shell.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

DATA_DIR_DEFAULT = "./data"
LISTEN_DEFAULT = "127.0.0.1:50051"
SEED_DEFAULT = 2026
ITEMS_PER_PROVINCE_DEFAULT = 20_000
PERSONS_PER_PROVINCE_DEFAULT = 2_000
UP_METRICS_LISTEN = "127.0.0.1:9464"  # Prometheus's conventional exporter port
DEMO_TODAY = "2026-01-01"  # the demo nation's own 'today': filings and versions are dated around it
PERSON_LOOKUPS_DEFAULT = 120
# The callers `medsettle up` makes certificates for on first start (institutions' are made on first use by
# `medsettle call`, from the development CA beside them).
DEV_NATIONAL_CALLERS = ("ops", "clearing")


EXIT_USAGE = 2  # a bad flag, environment value or data directory: one line on stderr, nothing done


class _Parser(argparse.ArgumentParser):
    """Errors in one line (what is wrong and where to look), exit status 2, never a traceback."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _number(kind: type, low: float, high: float, env_name: str):
    """An argparse type for a number in [low, high]; its message names the environment variable too, because
    argparse also runs the (string) default read from it through this."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'} from {low} to {high}, got {text!r}"
                f" (from the flag or {env_name})")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its message
    return parse


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=_env("MEDSETTLE_DATA_DIR", DATA_DIR_DEFAULT),
                        help="LMDB environment directory (env MEDSETTLE_DATA_DIR)")
    parser.add_argument("--map-size-gib", type=_number(float, 0.01, 2**16, "MEDSETTLE_MAP_SIZE_GIB"),
                        default=_env("MEDSETTLE_MAP_SIZE_GIB", "64"),
                        help="LMDB map size in GiB (sparse; env MEDSETTLE_MAP_SIZE_GIB)")


def _add_server_flags(parser: argparse.ArgumentParser) -> None:
    from medsettle import server, supervisor

    _add_data_dir(parser)
    parser.add_argument("--listen", default=_env("MEDSETTLE_LISTEN", LISTEN_DEFAULT),
                        help="host:port to serve on (env MEDSETTLE_LISTEN)")
    parser.add_argument("--workers", type=_number(int, 1, supervisor.WORKERS_MAX, "MEDSETTLE_WORKERS"),
                        default=_env("MEDSETTLE_WORKERS", "1"),
                        help="worker processes sharing the port (env MEDSETTLE_WORKERS)")
    parser.add_argument("--grace-s", type=_number(float, 0, 600, "MEDSETTLE_GRACE_S"),
                        default=_env("MEDSETTLE_GRACE_S", str(server.GRACE_S_DEFAULT)),
                        help="on SIGTERM, how long accepted calls get to finish (env MEDSETTLE_GRACE_S)")
    parser.add_argument("--drain-s", type=_number(float, 0, 600, "MEDSETTLE_DRAIN_S"),
                        default=_env("MEDSETTLE_DRAIN_S", str(server.DRAIN_S_DEFAULT)),
                        help="on SIGTERM, how long to keep answering while health says NOT_SERVING, before "
                             "refusing new calls (env MEDSETTLE_DRAIN_S)")
    parser.add_argument("--idle-s", type=_number(float, 1, 86_400, "MEDSETTLE_IDLE_S"),
                        default=_env("MEDSETTLE_IDLE_S", str(server.IDLE_S_DEFAULT)),
                        help="close a connection idle this long (env MEDSETTLE_IDLE_S)")
    parser.add_argument("--metrics-listen", default=_env("MEDSETTLE_METRICS_LISTEN", ""),
                        help="HOST:PORT to serve Prometheus metrics on (env MEDSETTLE_METRICS_LISTEN; "
                             "default off, `up`: 127.0.0.1:9464)")
    parser.add_argument("--log-calls", action="store_true", help="one JSON log line per successful call too")
    parser.add_argument("--person-lookups-per-minute", type=int,
                        default=int(_env("MEDSETTLE_PERSON_LOOKUPS_PER_MINUTE", str(PERSON_LOOKUPS_DEFAULT))),
                        help="an institution's person look-ups a minute, per worker (env "
                             "MEDSETTLE_PERSON_LOOKUPS_PER_MINUTE)")


def _add_tls_flags(parser: argparse.ArgumentParser, *, required: bool) -> None:
    security = parser.add_mutually_exclusive_group(required=required and not os.environ.get("MEDSETTLE_TLS_DIR"))
    security.add_argument("--tls-dir", default=_env("MEDSETTLE_TLS_DIR", ""),
                          help="ca.pem, server.pem, server-key.pem: serve mutual TLS, clients need a certificate "
                               "from that CA (env MEDSETTLE_TLS_DIR)")
    security.add_argument("--insecure", action="store_true",
                          help="plaintext on a loopback address only; callers named by x-medsettle-caller metadata")


def _add_seed_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=SEED_DEFAULT, help="generator seed (same seed, same nation)")
    parser.add_argument("--items-per-province", type=int, default=ITEMS_PER_PROVINCE_DEFAULT)
    parser.add_argument("--persons-per-province", type=int, default=PERSONS_PER_PROVINCE_DEFAULT)
    parser.add_argument("--millions", action="store_true",
                        help="a national-size catalog: 100,000 items per province (3.2 million in all)")
    parser.add_argument("--no-audit-rules", action="store_true",
                        help="leave out the provinces' audit rules (就医地管理), e.g. for a baseline benchmark")


def _server_config(args):
    from medsettle.server import ServerConfig

    return ServerConfig(data_dir=args.data_dir, listen=args.listen, workers=args.workers, grace_s=args.grace_s,
                        drain_s=args.drain_s, idle_s=args.idle_s, map_size_bytes=int(args.map_size_gib * 2**30),
                        log_calls=args.log_calls, create=getattr(args, "create", False),
                        metrics_listen=args.metrics_listen, tls_dir="" if args.insecure else args.tls_dir,
                        person_lookups_per_minute=args.person_lookups_per_minute)


def _open_store(args, *, create: bool = True):
    from medsettle.store.env import Store, StoreConfig

    return Store(StoreConfig(path=args.data_dir, map_size_bytes=int(args.map_size_gib * 2**30), create=create))


def _seed(store, args) -> None:
    """The demo nation into `store`, as the seed flags say, with a summary."""
    import time

    from medsettle.demo import seeding

    started = time.perf_counter()
    written = seeding.seed(store, seed=args.seed, items_per_province=100_000 if args.millions else args.items_per_province,
                           persons_per_province=args.persons_per_province, today=DEMO_TODAY,
                           audit_rules=not args.no_audit_rules)
    _print_summary(store, written, time.perf_counter() - started)


def cmd_seed(args) -> int:
    store = _open_store(args)
    try:
        if not store.is_empty() and not args.force:
            print(f"{args.data_dir} already holds data; use --force to add the demo nation anyway", file=sys.stderr)
            return 1
        _seed(store, args)
    finally:
        store.close()
    return 0


def _print_summary(store, written: dict, seconds: float) -> None:
    print(f"seeded in {seconds:.1f} s; records written per kind:")
    for kind, count in sorted(written.items()):
        print(f"  {kind:<16} {count:>10,}")
    print("entries per keyspace:")
    for name, count in store.counts().items():
        if count:
            print(f"  {name:<16} {count:>10,}")
    print(f"store size on disk: {store.size_bytes() / 2**20:,.1f} MiB")


def cmd_serve(args) -> int:
    from medsettle.server import is_loopback
    from medsettle.supervisor import ServeRefused, serve

    config = _server_config(args)
    if not config.tls_dir and ":" in config.listen and not is_loopback(config.listen):  # a malformed one: serve says
        raise ServeRefused(f"plaintext is served on a loopback address only, not {config.listen}: serve mutual TLS "
                           f"(--tls-dir) or listen on 127.0.0.1")
    return serve(config)


def cmd_up(args) -> int:
    """Seed the demo nation if the data directory is empty, make its development CA and certificates under the
    data directory if there are none, then serve mutual TLS."""
    import pathlib

    store = _open_store(args)
    try:
        if store.is_empty():
            _seed(store, args)
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


def _dev_certificates(directory) -> None:
    from medsettle import certs
    from medsettle.domain import region
    from medsettle.service.identity import NATIONAL, PROVINCE, Caller

    callers = [Caller(NATIONAL, name) for name in DEV_NATIONAL_CALLERS]
    callers += [Caller(PROVINCE, province) for province in region.PROVINCES]
    written = certs.init(directory, callers)
    if written:
        print(f"development CA and certificates in {directory} ({len(written)} files)", file=sys.stderr)


def cmd_certs_init(args) -> int:
    import pathlib

    from medsettle import certs
    from medsettle.service.identity import INSTITUTION, NATIONAL, PROVINCE, of

    try:
        callers = [of(f"{kind}:{value}") for kind, values in ((INSTITUTION, args.institution),
                                                              (PROVINCE, args.province), (NATIONAL, args.national))
                   for value in values]
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    written = certs.init(pathlib.Path(args.out), callers)
    for name in written:
        print(pathlib.Path(args.out) / name)
    print(f"{len(written)} files written; existing ones kept", file=sys.stderr)
    return 0


def cmd_health(args) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from medsettle import connect

    with connect.channel(args, connect.OPERATOR) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=args.service),
                                                               timeout=args.timeout_s)
        except grpc.RpcError as error:
            print(f"UNAVAILABLE: {error.code().name}", file=sys.stderr)
            return 2
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    print(name)
    return 0 if name == "SERVING" else 1


def cmd_call(args) -> int:
    from medsettle import client

    return client.main(args)


def cmd_load(args) -> int:
    from medsettle import loader

    return loader.run(args)


def cmd_clearing_run(args) -> int:
    from medsettle import clearing_run

    return clearing_run.run(args.data_dir, args.month, args.out, args.close)


def cmd_migrate(args) -> int:
    """Rewrite the records of an earlier release in the current format (see store/migrate.py)."""
    from medsettle.store import migrate

    store = _open_store(args, create=False)
    try:
        before = migrate.legacy_count(store)
        print(f"{args.data_dir}: {before:,} records in an earlier format")
        rewritten = migrate.migrate(store, on_batch=lambda space, done: print(f"  {space}: {done:,} rewritten"))
        for space, count in rewritten.items():
            print(f"{space:<16} {count:>10,}")
        left = migrate.legacy_count(store)
        print(f"migrated {sum(rewritten.values()):,} records; {left:,} left in an earlier format")
        return 0 if left == 0 else 1
    finally:
        store.close()


def cmd_demo_day(args) -> int:
    from medsettle.demo import day

    return day.main(args)


def cmd_report(args) -> int:
    from medsettle import report

    return report.run(args.data_dir, args.month, args.out)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="medsettle", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="serve gRPC on the data directory (mutual TLS, or --insecure on loopback)")
    _add_server_flags(serve)
    serve.add_argument("--create", action="store_true",
                       help="start an empty store when the data directory holds none (without it, a directory "
                            "with no store is refused: a mistyped --data-dir must not look like an empty nation)")
    _add_tls_flags(serve, required=True)
    serve.set_defaults(run=cmd_serve)

    up = commands.add_parser("up", help="seed the demo nation if the data directory is empty, make its development "
                                        "certificates (<data-dir>/tls) if missing, then serve mutual TLS")
    _add_server_flags(up)
    up.set_defaults(metrics_listen=_env("MEDSETTLE_METRICS_LISTEN", UP_METRICS_LISTEN))
    _add_tls_flags(up, required=False)
    _add_seed_flags(up)
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

    seed = commands.add_parser("seed", help="build the demo nation into the data directory")
    _add_data_dir(seed)
    seed.add_argument("--force", action="store_true", help="seed even if the directory holds data")
    _add_seed_flags(seed)
    seed.set_defaults(run=cmd_seed)

    from medsettle import connect

    health = commands.add_parser("health", help="ask a server's health service")
    connect.add_flags(health)
    health.add_argument("--service", default="")
    health.add_argument("--timeout-s", type=float, default=3.0)
    health.set_defaults(run=cmd_health)

    clearing = commands.add_parser("clearing", help="monthly clearing between provinces, from the store")
    clearing_commands = clearing.add_subparsers(dest="clearing_command", required=True)
    clearing_run = clearing_commands.add_parser("run", help="print, write CSV and SVG of a month's statement")
    clearing_run.add_argument("--month", required=True, help="YYYY-MM")
    _add_data_dir(clearing_run)
    clearing_run.add_argument("--out", default=".", help="directory for statement_YYYY-MM.csv and flows_YYYY-MM.svg")
    clearing_run.add_argument("--close", action="store_true", help="close the month first (a past month only)")
    clearing_run.set_defaults(run=cmd_clearing_run)

    migrate = commands.add_parser("migrate", help="rewrite records of an earlier release in the current format "
                                                  "(safe while serving; run again after an interruption)")
    _add_data_dir(migrate)
    migrate.set_defaults(run=cmd_migrate)

    demo = commands.add_parser("demo", help="the demo nation in use")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    demo_day = demo_commands.add_parser("day", help="a short scripted day of calls against a running server "
                                                   "(each hospital and province calls as itself)")
    connect.add_flags(demo_day)
    demo_day.add_argument("--persons", type=int, default=60, help="persons of each of 8 insured provinces")
    demo_day.add_argument("--persons-per-province", type=int, default=PERSONS_PER_PROVINCE_DEFAULT,
                          help="as the nation was seeded")
    demo_day.set_defaults(run=cmd_demo_day)

    report = commands.add_parser("report", help="supervision report of a month: tables and PNG charts, from the store")
    report.add_argument("--month", required=True, help="YYYY-MM")
    report.add_argument("--data-dir", default=_env("MEDSETTLE_DATA_DIR", DATA_DIR_DEFAULT))
    report.add_argument("--out", default="report", help="directory for the PNG charts and CSV tables")
    report.set_defaults(run=cmd_report)

    call = commands.add_parser("call", help="client calls that print readable results")
    connect.add_flags(call)
    call.add_argument("--json", action="store_true", help="print the raw answer as JSON")
    from medsettle import client

    client.add_commands(call)
    call.set_defaults(run=cmd_call)

    load = commands.add_parser("load", help="check a reference-data file whole, then push it to a server in batches "
                                             "(docs/loading.md)")
    load.add_argument("kind", choices=("catalog", "policies", "places", "institutions", "persons"))
    load.add_argument("file", help="CSV, JSON or XLSX (UTF-8 with or without BOM, or GBK/GB18030)")
    load.add_argument("--province", help="catalog: province of treatment (xx0000)")
    connect.add_flags(load)
    load.add_argument("--batch-items", type=int, default=20_000, help="records per push (at most 20,000 but a catalog)")
    load.add_argument("--dry-run", action="store_true", help="check everything, write nothing, say what would be written")
    load.add_argument("--encoding", default="", help="the file's encoding when detection is wrong (e.g. gb18030)")
    load.add_argument("--no-progress", action="store_true", help="no progress bar")
    load.set_defaults(run=cmd_load)

    args = parser.parse_args(argv)
    from medsettle.store.env import StoreLayoutError, StoreMissing
    from medsettle.supervisor import ServeRefused

    try:
        return args.run(args)
    except (ServeRefused, StoreMissing, StoreLayoutError) as error:
        print(f"medsettle {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE


def print_json(message) -> None:
    from google.protobuf import json_format

    print(json.dumps(json_format.MessageToDict(message, preserving_proto_field_name=True), ensure_ascii=False,
                     indent=2))


if __name__ == "__main__":
    sys.exit(main())
