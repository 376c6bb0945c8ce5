"""`medsettle clearing run` and `medsettle report`: a month's statement and supervision report, read from the store
(no server needed); files go under the data directory unless --out says where."""

from __future__ import annotations

import pathlib

from medsettle import store_option


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
    report.set_defaults(run=cmd_report)


def cmd_clearing_run(args) -> int:
    from medsettle import clearing_run

    out = args.out or str(pathlib.Path(args.data_dir) / "clearing")
    return clearing_run.run(store_option.location(args), args.month, out, args.close)


def cmd_report(args) -> int:
    from medsettle import report

    return report.run(store_option.location(args), args.month, args.out or str(pathlib.Path(args.data_dir) / "report"))
