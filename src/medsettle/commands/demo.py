"""`medsettle demo day`: the demo nation in use, against a running server."""

from __future__ import annotations

from medsettle.commands.data import PERSONS_PER_PROVINCE_DEFAULT


def register(commands) -> None:
    demo = commands.add_parser("demo", help="the demo nation in use")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    day = demo_commands.add_parser("day", help="a short scripted day of calls against a running server (each "
                                               "hospital and province calls as itself)")
    day.add_argument("--persons", type=int, default=60, help="persons of each of 8 insured provinces")
    day.add_argument("--persons-per-province", type=int, default=PERSONS_PER_PROVINCE_DEFAULT,
                     help="as the nation was seeded")
    day.add_argument("--shard-map", default="", help="against a sharded deployment (--target its Envoy): the cluster's "
                                                     "shard map, to gather each province's flags from every shard")
    day.set_defaults(run=cmd_demo_day)


def cmd_demo_day(args) -> int:
    from medsettle.demo import day

    return day.main(args)
