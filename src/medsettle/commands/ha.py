"""`medsettle ha up|status|down`: the PostgreSQL cluster of medsettle/ha.py on this machine, for trials."""

from __future__ import annotations

import argparse
import pathlib
import sys

from medsettle import exits, ha


def register(commands) -> None:
    group = commands.add_parser("ha", help="a 3-node PostgreSQL cluster (Patroni, etcd, synchronous replication) on "
                                           "this machine, for trials of --store postgresql://")
    actions = group.add_subparsers(dest="ha_command", required=True)
    start = actions.add_parser("up", help="start etcd and the nodes; print the --store string")
    start.add_argument("--dir", default="./ha", help="data, configuration and logs of every node")
    start.add_argument("--nodes", type=int, default=3, help=f"PostgreSQL nodes (2 to {ha.NODES_MAX})")
    start.add_argument("--pg-port", type=int, default=ha.Layout.pg_port, help="node i listens on this + i")
    start.add_argument("--api-port", type=int, default=ha.Layout.api_port, help="node i's Patroni REST API on this + i")
    start.add_argument("--etcd-port", type=int, default=ha.Layout.etcd_port, help="etcd clients (peers on this + 1)")
    start.set_defaults(run=cmd_up)
    status = actions.add_parser("status", help="the members, their roles and lag")
    status.add_argument("--dir", default="./ha")
    status.set_defaults(run=cmd_status)
    stop = actions.add_parser("down", help="stop every node, then etcd")
    stop.add_argument("--dir", default="./ha")
    stop.set_defaults(run=cmd_down)


def cmd_up(args: argparse.Namespace) -> int:
    if not 2 <= args.nodes <= ha.NODES_MAX:
        raise exits.CommandError(f"--nodes must be from 2 to {ha.NODES_MAX}, got {args.nodes}", exits.USAGE)
    if (pathlib.Path(args.dir) / ha.LAYOUT_FILE).exists():
        raise exits.CommandError(f"{args.dir} already holds a cluster: `medsettle ha down --dir {args.dir}` first, or "
                                 f"another --dir", exits.USAGE)
    layout = ha.up(ha.Layout(directory=str(pathlib.Path(args.dir).resolve()), nodes=args.nodes, pg_port=args.pg_port,
                             api_port=args.api_port, etcd_port=args.etcd_port))
    _print_members(layout)
    print(f"\nserve over it:\n  medsettle serve --store '{layout.store_location()}' --create --insecure")
    return exits.OK


def cmd_status(args: argparse.Namespace) -> int:
    return exits.OK if _print_members(ha.Layout.load(args.dir)) else exits.REFUSED


def cmd_down(args: argparse.Namespace) -> int:
    layout = ha.Layout.load(args.dir)
    ha.down(layout)
    (layout.path / ha.LAYOUT_FILE).unlink()
    print(f"stopped; data kept in {layout.directory}", file=sys.stderr)
    return exits.OK


def _print_members(layout: ha.Layout) -> bool:
    found = ha.members(layout)
    for member in found:
        print(f"{member.get('name'):<8} {member.get('role', ''):<13} {member.get('state', ''):<10} "
              f"{member.get('host', '')}:{member.get('port', '')}  lag {member.get('lag', 0)}")
    if not found:
        print("no member answers", file=sys.stderr)
    return bool(found)
