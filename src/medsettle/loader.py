"""`medsettle load`: push catalogs (CSV or JSON) and policies (JSON) to a server through ReferenceDataService,
in batches, with a progress bar. Each batch's request_id is derived from the file's content, so re-running
a load after an interruption is safe: batches already written answer with their original answer (a retry)
and write nothing again; the rest are written.

CSV: a header row of CatalogItem field names (med_list_codg, name, list_type, chrgitm_lv, selfpay_prop,
pric_uplmt_amt, lmt_used_flag, lmt_sex, lmt_age_min, lmt_age_max, lmt_setting, lmt_dise_codes (separated by
'|'), lmt_cnt_per_day, begndate, enddate). JSON: a list of objects with the same names, or for policies an
object {"policies": [...], "insured_places": [...]} in the contract's JSON form.
"""

from __future__ import annotations

import csv
import hashlib
import json
import pathlib
import sys
from collections.abc import Iterator

import grpc
from google.protobuf import json_format
from tqdm import tqdm

from medsettle.v1 import reference_data_pb2 as pb
from medsettle.v1 import reference_data_pb2_grpc as pb_grpc

BATCH_ITEMS_DEFAULT = 20_000  # well under the 16 MiB message limit at ~150 bytes an item
_INT_FIELDS = {"selfpay_prop", "pric_uplmt_amt", "lmt_age_min", "lmt_age_max"}


def catalog_items(path: pathlib.Path) -> Iterator[pb.CatalogItem]:
    if path.suffix.lower() == ".json":
        for row in json.loads(path.read_text(encoding="utf-8")):
            yield json_format.ParseDict(row, pb.CatalogItem())
        return
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            item = pb.CatalogItem()
            for name, value in row.items():
                if value in ("", None):
                    continue
                if name in _INT_FIELDS:
                    setattr(item, name, int(value))
                elif name == "lmt_used_flag":
                    item.lmt_used_flag = value.strip().lower() in ("1", "true", "y", "yes")
                elif name == "lmt_dise_codes":
                    item.lmt_dise_codes.extend(code for code in value.split("|") if code)
                else:
                    setattr(item, name, value)
            yield item


def _batches(items: Iterator[pb.CatalogItem], size: int) -> Iterator[list[pb.CatalogItem]]:
    batch: list[pb.CatalogItem] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _request_id(kind: str, digest: str, index: int) -> str:
    return f"load-{kind}-{digest[:20]}-{index:05d}"


def _caller(caller: str) -> tuple[tuple[str, str], ...]:
    from medsettle.service.identity import CALLER_METADATA_KEY

    return ((CALLER_METADATA_KEY, caller),)


def load_catalog(stub: pb_grpc.ReferenceDataServiceStub, path: pathlib.Path, province: str, caller: str,
                 batch_items: int = BATCH_ITEMS_DEFAULT, progress: bool = True) -> int:
    digest = hashlib.blake2b(path.read_bytes() + province.encode(), digest_size=16).hexdigest()
    written = 0
    bar = tqdm(unit="item", unit_scale=True, desc=f"catalog {province}", disable=not progress, file=sys.stderr)
    for index, batch in enumerate(_batches(catalog_items(path), batch_items)):
        answer = stub.PutCatalogItems(pb.PutCatalogItemsRequest(
            request_id=_request_id("catalog", digest, index), mdtrtarea_admvs=province, items=batch), timeout=300,
            metadata=_caller(caller))
        written += answer.items_written
        bar.update(len(batch))
    bar.close()
    return written


def load_policies(stub: pb_grpc.ReferenceDataServiceStub, path: pathlib.Path, caller: str) -> tuple[int, int]:
    request = json_format.Parse(path.read_text(encoding="utf-8"), pb.PutPoliciesRequest())
    digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    request.request_id = _request_id("policy", digest, 0)
    answer = stub.PutPolicies(request, timeout=300, metadata=_caller(caller))
    return answer.policies_written, answer.insured_places_written


def main(args) -> int:
    from medsettle.client import print_error

    path = pathlib.Path(args.file)
    with grpc.insecure_channel(args.target, options=[("grpc.max_send_message_length", 16 * 2**20)]) as channel:
        stub = pb_grpc.ReferenceDataServiceStub(channel)
        try:
            if args.kind == "catalog":
                written = load_catalog(stub, path, args.province, args.caller, args.batch_items)
                print(f"catalog items written: {written:,}")
            else:
                policies, places = load_policies(stub, path, args.caller)
                print(f"policies written: {policies:,}; insured-place parameters written: {places:,}")
        except grpc.RpcError as error:
            print_error(error)
            return 1
    return 0
