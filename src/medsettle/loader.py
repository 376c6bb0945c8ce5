"""`medsettle load KIND FILE`: push a provincial reference-data file (catalog, policies, insured-place parameters,
institutions, persons; CSV, JSON or XLSX, docs/loading.md) to a server through ReferenceDataService.

The whole file is checked before anything is written: first as a file (encoding, columns, every value exact), then
record by record with the server's own conversion rules, then by the server itself against what it holds
(`validate_only` pushes). Every problem is reported with its file line and column, up to 50. Only a file with none is
pushed, in batches, with a progress bar. `--dry-run` stops after the checks and says what would be written.

Re-running a load is safe and says so: records the server already holds exactly as in the file are reported as
already present, not as written. Within one run a batch whose answer was lost is retried under the same request id.

A sharded deployment (`--shard-map`): every batch goes to every shard through the proxy (x-medsettle-shard), each
applies it whole or not at all, and the summary says what each shard wrote; persons too (each shard keeps its own
insured and the credential directory of the others).
"""

from __future__ import annotations

import hashlib
import pathlib
import re
import secrets
import sys
from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from tqdm import tqdm

from medsettle import connect, exits, reference_file
from medsettle.domain import region
from medsettle.domain.reasons import Refusal
from medsettle.reference_file import FileError, Problem, Record
from medsettle.service import person_convert, reference_convert
from medsettle.v1 import reference_data_pb2 as pb
from medsettle.v1 import reference_data_pb2_grpc as pb_grpc

BATCH_RECORDS_DEFAULT = 20_000  # well under the 16 MiB message limit at ~150 bytes a catalog item
BATCH_RECORDS_MAX = 20_000  # the server's records_per_push_max
CATALOG_BATCH_RECORDS_MAX = 50_000  # the server's items_per_push_max
MESSAGE_BYTES_MAX = 16 * 2**20
PUSH_TIMEOUT_S = 300
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = exits.OK, exits.REFUSED, exits.USAGE

# kind -> (short code for request ids, field of the push request that holds the records, the RPC)
PUSHES = {
    "catalog": ("cat", "items", "PutCatalogItems"),
    "policies": ("pol", "policies", "PutPolicies"),
    "places": ("plc", "insured_places", "PutPolicies"),
    "institutions": ("ins", "institutions", "PutInstitutions"),
    "persons": ("psn", "persons", "PutPersons"),
}
CONVERT = {"catalog": reference_convert.catalog_item, "policies": reference_convert.policy,
           "places": reference_convert.insured_place, "institutions": reference_convert.institution,
           "persons": person_convert.person}


@dataclass
class Part:
    """The records of one kind read from the file (a policies JSON may also hold insured-place parameters)."""

    kind: str
    records: list[Record]


@dataclass
class Counts:
    written: int = 0
    unchanged: int = 0


class Refused(Exception):
    def __init__(self, problems: list[str], total: int) -> None:
        super().__init__(f"{total} problems")
        self.problems, self.total = problems, total


# -- checking -------------------------------------------------------------------------------------------------------


def check_locally(part: Part) -> tuple[list[Problem], int]:
    """The server's own conversion of every record (codes, ranges, required fields, national rules) and records named
    twice: problems with their file positions (the first reference_file.ERRORS_MAX) and how many there are."""
    problems: list[Problem] = []
    total = 0

    def add(line: int, column: int, where: str, message: str) -> None:
        nonlocal total
        total += 1
        if len(problems) < reference_file.ERRORS_MAX:
            problems.append(Problem(line, column, where, message))

    convert_one = CONVERT[part.kind]
    key_of = reference_file.KINDS[part.kind].key
    first_line: dict[tuple, int] = {}
    for record in part.records:
        try:
            convert_one(record.message, "row")
        except Refusal as refusal:
            for each in refusal.all:
                path = each.field.removeprefix("row.").removeprefix("row")
                line, column = record.place_of(path)
                add(line, column, path, f"{each.reason.code}: {each.reason.en}" + (f" ({each.detail})" if each.detail
                                                                                 else ""))
            continue
        key = key_of(record.message)
        if key in first_line:
            add(record.line, record.column, "", f"{'/'.join(key)} is also on line {first_line[key]}: name a record once")
        else:
            first_line[key] = record.line
    return problems, total


def _request(part: Part, batch: list[Record], province: str, request_id: str, validate_only: bool):
    _, field, _ = PUSHES[part.kind]
    messages = [record.message for record in batch]
    if part.kind == "catalog":
        return pb.PutCatalogItemsRequest(request_id=request_id, mdtrtarea_admvs=province, items=messages,
                                         validate_only=validate_only)
    if part.kind in ("policies", "places"):
        return pb.PutPoliciesRequest(request_id=request_id, validate_only=validate_only, **{field: messages})
    request_type = pb.PutInstitutionsRequest if part.kind == "institutions" else pb.PutPersonsRequest
    return request_type(request_id=request_id, validate_only=validate_only, **{field: messages})


def _counts(part: Part, answer) -> Counts:
    if part.kind == "catalog":
        return Counts(answer.items_written, answer.items_unchanged)
    if part.kind == "policies":
        return Counts(answer.policies_written, answer.policies_unchanged)
    if part.kind == "places":
        return Counts(answer.insured_places_written, answer.insured_places_unchanged)
    if part.kind == "institutions":
        return Counts(answer.institutions_written, answer.institutions_unchanged)
    return Counts(answer.persons_written, answer.persons_unchanged)


_INDEXED = re.compile(r"^(\w+)\[(\d+)\]\.?(.*)$")


def refusal_problems(error: grpc.RpcError, batch: list[Record], path: pathlib.Path) -> tuple[list[str], int]:
    """A refused push as file problems: each ErrorInfo's field (items[17].begndate) placed at its record's line."""
    status = rpc_status.from_call(error)
    if status is None:
        return [f"{path.name}: {error.code().name}: {error.details()}"], 1
    lines, total = [], 1
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if not detail.Unpack(info):
            continue
        total = max(total, int(info.metadata.get("reason_count", "1")))
        field = info.metadata.get("field", "")
        where = f"{path.name}"
        found = _INDEXED.match(field)
        if found and int(found.group(2)) < len(batch):
            line, column = batch[int(found.group(2))].place_of(found.group(3))
            where += f": line {line}" + (f", column {column}" if column else "") + f" ({found.group(3)})"
        elif field:
            where += f" ({field})"
        detail_text = info.metadata.get("detail", "")
        lines.append(f"{where}: {info.reason}" + (f" ({detail_text})" if detail_text else ""))
    return lines, total


# -- pushing --------------------------------------------------------------------------------------------------------


def _call(stub, part: Part, request, shard: str = ""):
    from medsettle.cluster import fanout

    method = getattr(stub, PUSHES[part.kind][2])
    metadata = fanout.shard_metadata(shard, request.request_id) if shard else ()
    return fanout.call_retrying(method, request, metadata=metadata, timeout_s=PUSH_TIMEOUT_S)


def _total_key(kind: str, shard: str) -> str:
    return f"{kind} on {shard}" if shard else kind


def _batches(records: list[Record], size: int) -> list[list[Record]]:
    return [records[start:start + size] for start in range(0, len(records), size)]


def push(stub, parts: list[Part], path: pathlib.Path, province: str, *, batch_records: int,
         validate_only: bool, run_id: str, progress: bool, shards: tuple[str, ...] = ("",)) -> dict[str, Counts]:
    """Every record in batches, each batch to every shard ("": the one server): validate_only (nothing written, whole
    file checked by the server), or for real. Returns what was (or would be) written and what was already held, per
    kind (and shard: "kind on shard")."""
    digest = hashlib.blake2b(path.read_bytes() + province.encode(), digest_size=6).hexdigest()
    totals = {_total_key(part.kind, shard): Counts() for part in parts for shard in shards}
    records_count = sum(len(part.records) for part in parts)
    bar = tqdm(total=records_count, unit="rec", file=sys.stderr, disable=not progress,
               desc=("checking " if validate_only else "writing ") + path.name)
    done_lines: list[int] = []
    try:
        for part in parts:
            for index, batch in enumerate(_batches(part.records, batch_records)):
                request_id = f"ld-{PUSHES[part.kind][0]}-{digest}-{run_id}-{index:04d}"
                request = _request(part, batch, province, request_id, validate_only)
                for shard in shards:
                    try:
                        answer = _call(stub, part, request, shard)
                    except grpc.RpcError as error:
                        problems, count = refusal_problems(error, batch, path)
                        if shard != shards[0] and not validate_only:
                            problems.append(f"{shard} did not take the batch ending at line {batch[-1].line}, "
                                            f"which {', '.join(shards[:shards.index(shard)])} took: load the file "
                                            f"again once {shard} answers (what is held is reported as already present)")
                        if not validate_only and done_lines:
                            problems.append(f"the rows up to line {max(done_lines)} were written before this batch "
                                            f"was refused; nothing after it was. Fix the file and load it again: what "
                                            f"was written is then reported as already present")
                        raise Refused(problems, count) from None
                    counts = _counts(part, answer)
                    totals[_total_key(part.kind, shard)].written += counts.written
                    totals[_total_key(part.kind, shard)].unchanged += counts.unchanged
                done_lines.append(batch[-1].line)
                bar.update(len(batch))
    finally:
        bar.close()
    return totals


# -- the command ----------------------------------------------------------------------------------------------------


def read_parts(path: pathlib.Path, kind: str, encoding: str) -> tuple[list[Part], str, list[str], list[Problem], int]:
    result = reference_file.read(path, kind, encoding)
    parts = [Part(kind, result.records)]
    problems, total = list(result.problems), result.problem_count
    ignored = result.ignored_columns
    if kind == "policies" and path.suffix.lower() == ".json" and '"insured_places"' in path.read_text(
            encoding="utf-8", errors="replace"):
        places = reference_file.read(path, "places", encoding)
        parts.insert(0, Part("places", places.records))  # the places first: policies may need them in force
        problems += places.problems
        total += places.problem_count
        ignored = sorted(set(ignored) - {"insured_places"})
    return parts, result.encoding, ignored, problems, total


def _print_problems(path: pathlib.Path, problems: list, total: int) -> None:
    placed = sorted((p for p in problems if isinstance(p, Problem)), key=lambda p: (p.line, p.column))
    problems = placed + [p for p in problems if not isinstance(p, Problem)]
    for problem in problems[:reference_file.ERRORS_MAX]:
        print(f"{path.name}: {problem}" if isinstance(problem, Problem) else str(problem), file=sys.stderr)
    if total > len(problems):
        print(f"... and {total - len(problems)} more ({total} problems in all)", file=sys.stderr)
    print(f"{path.name}: nothing was written", file=sys.stderr)


def run(args) -> int:
    path = pathlib.Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return EXIT_USAGE
    province = args.province or ""
    if args.kind == "catalog" and not (region.is_known(province) and region.is_province(province)):
        print(f"--province must be the catalog's province of treatment (xx0000), got {province!r}", file=sys.stderr)
        return EXIT_USAGE
    if not 1 <= args.batch_items <= CATALOG_BATCH_RECORDS_MAX:
        print(f"--batch-items must be 1 to {CATALOG_BATCH_RECORDS_MAX:,}", file=sys.stderr)
        return EXIT_USAGE
    batch_records = args.batch_items if args.kind == "catalog" else min(args.batch_items, BATCH_RECORDS_MAX)
    try:
        parts, encoding, ignored, problems, total = read_parts(path, args.kind, args.encoding)
    except FileError as error:
        at = f"line {error.line}" + (f", column {error.column}" if error.column else "") + ": " if error.line else ""
        print(f"{path.name}: {at}{error.message}", file=sys.stderr)
        print(f"{path.name}: nothing was written", file=sys.stderr)
        return EXIT_REFUSED
    records = sum(len(part.records) for part in parts)
    print(f"{path.name}: {records:,} {args.kind} records ({encoding})", file=sys.stderr)
    if ignored:
        print(f"{path.name}: ignored column(s) not part of {args.kind}: {', '.join(ignored)}", file=sys.stderr)
    for part in parts:
        found, count = check_locally(part)
        problems += found
        total += count
    if total:
        _print_problems(path, problems, total)
        return EXIT_REFUSED
    if not records:
        print(f"{path.name}: no records; nothing was written", file=sys.stderr)
        return EXIT_REFUSED
    run_id = secrets.token_hex(3)  # a batch retried within this run keeps its request id; a re-run gets new ones
    progress = not args.no_progress
    # A province pushes its own catalog; policies of several insured places come from national operations (--as
    # names another caller: a province pushing its own institutions, persons or policies).
    default = f"province:{province}" if args.kind == "catalog" else connect.OPERATOR
    shards = ("",)
    if getattr(args, "shard_map", ""):
        from medsettle.domain.shards import ShardMapError, parse

        try:
            shards = parse(pathlib.Path(args.shard_map).read_bytes()).names
        except (OSError, ShardMapError) as error:
            print(f"--shard-map {args.shard_map}: {error}", file=sys.stderr)
            return EXIT_USAGE
    with connect.channel(args, default) as channel:
        stub = pb_grpc.ReferenceDataServiceStub(channel)
        try:
            would = push(stub, parts, path, province, batch_records=batch_records, validate_only=True,
                         run_id=run_id, progress=progress, shards=shards)
            if args.dry_run:
                for kind, counts in would.items():
                    print(f"dry run: {kind}: {counts.written:,} would be written, {counts.unchanged:,} already present")
                print("dry run: nothing was written")
                return EXIT_OK
            done = push(stub, parts, path, province, batch_records=batch_records, validate_only=False,
                        run_id=run_id, progress=progress, shards=shards)
        except Refused as refused:
            _print_problems(path, refused.problems, refused.total)
            return EXIT_REFUSED
        except grpc.RpcError as error:
            print(f"{path.name}: {args.target}: {error.code().name}: {error.details()}", file=sys.stderr)
            return exits.UNREACHABLE if connect.unreachable(error) else EXIT_REFUSED
    for kind, counts in done.items():
        print(f"{kind}: {counts.written:,} new, {counts.unchanged:,} already present")
    return EXIT_OK
