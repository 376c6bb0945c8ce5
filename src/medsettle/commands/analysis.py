"""`medsettle clearing run` and `medsettle report`: a month's statement and supervision report, read from the store
(no server needed), or for a sharded deployment gathered from every shard through the proxy (`report --shard-map`);
files go under the data directory unless --out says where."""

from __future__ import annotations

import pathlib

from medsettle import exits, store_option


def register(commands) -> None:
    clearing = commands.add_parser("clearing", help="monthly clearing between provinces, from the store")
    clearing_commands = clearing.add_subparsers(dest="clearing_command", required=True)
    run = clearing_commands.add_parser("run", help="print a month's statement; write it as CSV and draw its flows "
                                                   "and nets (PNG and SVG)")
    run.add_argument("--month", required=True, help="YYYY-MM")
    run.add_argument("--out", default="", help="directory for statement_YYYY-MM.csv, flows_YYYY-MM.png/.svg and "
                                               "net_YYYY-MM.png/.svg (default <data-dir>/clearing)")
    run.add_argument("--close", action="store_true", help="close the month first (a past month only)")
    run.set_defaults(run=cmd_clearing_run)

    report = commands.add_parser("report", help="supervision report of a month: tables and PNG charts, from the store")
    report.add_argument("--month", required=True, help="YYYY-MM")
    report.add_argument("--out", default="", help="directory for the PNG charts and the tables "
                                                  "(default <data-dir>/report)")
    # A sharded deployment: every shard's figures through the proxy (--target, --tls-dir, --as; default caller
    # national:ops), as one host would report them (cluster/report_gather.py).
    report.add_argument("--shard-map", default="", help="gather the report from every shard of this map instead of "
                                                         "reading one store")
    report.add_argument("--names-from", default="", help="with --shard-map: a store holding the reference data (any "
                                                         "shard's directory or URL) to name institutions; else codes")
    report.set_defaults(run=cmd_report)


def cmd_clearing_run(args) -> int:
    from medsettle import clearing_run

    out = args.out or str(pathlib.Path(args.data_dir) / "clearing")
    return clearing_run.run(store_option.location(args), args.month, out, args.close)


def cmd_report(args) -> int:
    from medsettle import report

    out = args.out or str(pathlib.Path(args.data_dir) / "report")
    if not args.shard_map:
        if args.names_from:
            raise exits.CommandError("--names-from goes with --shard-map (one store names its own institutions)")
        return report.run(store_option.location(args), args.month, out)
    return _report_gathered(args, out)


def _report_gathered(args, out: str) -> int:
    import sys

    from medsettle import report
    from medsettle.cluster import report_gather
    from medsettle.cluster.supervision_gather import INSTITUTIONS_ASKED
    from medsettle.commands.cluster import gathered
    from medsettle.store.open import open_store

    plt = report.checked(args.month)
    if plt is None:
        return exits.USAGE
    found = gathered(args, "national:ops", "report: ",
                     lambda channel, shard_map: report_gather.gather(channel, shard_map.names, args.month))
    if args.names_from:
        names = open_store(args.names_from, create=False)
        try:
            with names.read() as view:
                report.name_institutions(found.report, view)
        finally:
            names.close()
    if not found.complete:
        print(f"note: a shard listed {INSTITUTIONS_ASKED} institutions: the most-flagged may miss some",
              file=sys.stderr)
    return report.write(plt, found.report, out)
