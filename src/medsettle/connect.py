"""How the command line's clients (`call`, `health`, `load`) reach a server and say who they are.

By default over mutual TLS with the certificates of a directory: --tls-dir, else $MEDSETTLE_TLS_DIR, else the
development set `medsettle up` made under the data directory (<data-dir>/tls). `--as kind:id` picks the caller
(`institution:H44010200001`, `province:440000`, `national:ops`); each command has a sensible default. With
--insecure the call goes in plaintext and names the caller in the x-medsettle-caller metadata (a loopback
--insecure server only).

A sharded deployment (Envoy in front of shards by insured province) routes each call about a person by the
x-insuplc-admdvs metadata: `--insuplc-admdvs` (env MEDSETTLE_INSUPLC_ADMDVS) sends it on every call; a single host
ignores it.
"""

from __future__ import annotations

import argparse
import os
import pathlib

import grpc

from medsettle.service import identity
from medsettle.service.identity import Caller

DATA_DIR_DEFAULT = "./data"
LISTEN_DEFAULT = "127.0.0.1:50051"
OPERATOR = "national:ops"  # the national platform's operations: the default caller of operators' commands
MESSAGE_BYTES_MAX = 16 * 2**20


def default_tls_dir(data_dir: str | None = None) -> str:
    return os.environ.get("MEDSETTLE_TLS_DIR") or str(
        pathlib.Path(data_dir or os.environ.get("MEDSETTLE_DATA_DIR", DATA_DIR_DEFAULT)) / "tls")


def add_flags(parser) -> None:
    """The connection flags, as the command line's global options (accepted before or after any subcommand): no
    defaults here, so a value given earlier on the line stands; `defaults()` fills what was not given."""
    parser.add_argument("--target", default=argparse.SUPPRESS,
                        help="host:port of the server (env MEDSETTLE_LISTEN; default 127.0.0.1:50051)")
    parser.add_argument("--tls-dir", default=argparse.SUPPRESS,
                        help="mutual TLS: ca.pem and the certificates (env MEDSETTLE_TLS_DIR; clients default to "
                             "<data-dir>/tls)")
    parser.add_argument("--as", dest="caller", default=argparse.SUPPRESS,
                        help="who calls: institution:CODE, province:ADMDVS or national:NAME (env MEDSETTLE_CALLER)")
    parser.add_argument("--insecure", action="store_true", default=argparse.SUPPRESS,
                        help="plaintext, a loopback address only; the caller named in x-medsettle-caller metadata")
    parser.add_argument("--insuplc-admdvs", default=argparse.SUPPRESS,
                        help="the insured place of the person the call is about, sent as x-insuplc-admdvs (a "
                             "sharded deployment routes by it; env MEDSETTLE_INSUPLC_ADMDVS)")


def defaults() -> dict[str, object]:
    return {"target": os.environ.get("MEDSETTLE_LISTEN", LISTEN_DEFAULT),
            "tls_dir": os.environ.get("MEDSETTLE_TLS_DIR", ""),
            "caller": os.environ.get("MEDSETTLE_CALLER", ""), "insecure": False,
            "insuplc_admdvs": os.environ.get("MEDSETTLE_INSUPLC_ADMDVS", "")}


def caller(args, default: str) -> Caller:
    try:
        return identity.of(args.caller or default)
    except ValueError as error:
        raise SystemExit(f"--as: {error}") from None


class _Named(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(details._replace(metadata=tuple(details.metadata or ()) + self.metadata), request)


def caller_header(who: Caller) -> grpc.UnaryUnaryClientInterceptor:
    """Names `who` on every unary call of a plaintext channel (grpc.intercept_channel)."""
    return _Named(identity.metadata(who))


def channel(args, default_caller: str) -> grpc.Channel:
    """A channel to args.target on which every call is made as the caller (--as, else `default_caller`)."""
    return channel_as(args, caller(args, default_caller))


def insured_place_header(admdvs: str) -> tuple[tuple[str, str], ...]:
    from medsettle.service.placement import INSURED_PLACE_KEY

    return ((INSURED_PLACE_KEY, admdvs),) if admdvs else ()


def channel_as(args, who: Caller | str) -> grpc.Channel:
    """A channel to args.target on which every call is made as `who` (a tool acting for many callers: the demo
    day's hospitals and provinces). Over mutual TLS a development directory makes a missing certificate."""
    who = identity.of(who) if isinstance(who, str) else who
    options = [("grpc.max_send_message_length", MESSAGE_BYTES_MAX),
               ("grpc.max_receive_message_length", MESSAGE_BYTES_MAX)]
    placed = insured_place_header(getattr(args, "insuplc_admdvs", ""))
    if args.insecure:
        plain = grpc.insecure_channel(args.target, options=options)
        return grpc.intercept_channel(plain, _Named(identity.metadata(who) + placed))
    from medsettle import tls

    directory = pathlib.Path(args.tls_dir or default_tls_dir(getattr(args, "data_dir", None)))
    if not (directory / "ca.pem").is_file():
        raise SystemExit(f"no ca.pem in {directory}: give --tls-dir (the server's CA and your certificate), or "
                         f"--insecure for a loopback plaintext server")
    secure = grpc.secure_channel(args.target, tls.channel_credentials(directory, who), options=options)
    return grpc.intercept_channel(secure, _Named(placed)) if placed else secure


def unreachable(error: grpc.RpcError) -> bool:
    """No server answered (down, a wrong address, a TLS mismatch), as opposed to a refusal, which a medsettle server
    always sends with its reason in the status details."""
    if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return False
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    return not any(key == "grpc-status-details-bin" for key, _ in trailers or ())
