"""`medsettle bench export-visits`: the visits a load test of a running deployment sends (bench/README.md)."""

from __future__ import annotations

import json
import pathlib

from medsettle import exits


def register(commands) -> None:
    bench = commands.add_parser("bench", help="tools for load-testing a deployment (bench/README.md)")
    bench_commands = bench.add_subparsers(dest="bench_command", required=True)
    export_visits = bench_commands.add_parser(
        "export-visits", help="persons, institutions and priced lines that can settle today, from the store "
                              "(--data-dir or --store; a read snapshot: safe while serving), as JSON for bench/mix.sh")
    export_visits.add_argument("--out", required=True, help="the JSON file to write")
    export_visits.add_argument("--outpatient", type=int, default=20_000, help="outpatient visits at most")
    export_visits.add_argument("--inpatient", type=int, default=5_000, help="inpatient visits at most")
    export_visits.add_argument("--today", default="", help="YYYY-MM-DD (default: today in Asia/Shanghai)")
    export_visits.set_defaults(run=cmd_export_visits)


def cmd_export_visits(args) -> int:
    from medsettle import store_option, visits_export
    from medsettle.service.clock import Clock

    today = args.today or Clock().today()
    store = store_option.open_from_args(args, create=False)
    try:
        document = visits_export.export(store, today, args.outpatient, args.inpatient)
    finally:
        store.close()
    pathlib.Path(args.out).write_text(json.dumps(document, ensure_ascii=False))
    print(f"{args.out}: {len(document['outpatient'])} outpatient and {len(document['inpatient'])} inpatient "
          f"visits that can settle on {today}")
    if not document["outpatient"] or not document["inpatient"]:
        raise exits.CommandError("a list is empty: the mix needs both", exits.REFUSED)
    return exits.OK
