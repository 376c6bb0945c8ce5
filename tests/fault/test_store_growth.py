"""What a settlement costs in file: pages of the settlements and requests keyspaces per settlement.

Before the fix: three 4 KiB pages per 10-line settlement (the settlement, a 5 KB map, on two overflow pages; its
request record, holding the whole answer again, on a third): about 12 KiB of file each. The figure for a million
settlements through the server is in bench/RESULTS.md (bench/store_bytes.py).
"""

from __future__ import annotations

from medsettle.v1 import settlement_pb2, settlement_pb2_grpc
from tests.service.test_settlements import claim, line

SETTLEMENTS = 300


def test_a_ten_line_settlement_costs_well_under_a_page(served, world, store):
    stub = settlement_pb2_grpc.SettlementServiceStub(served.as_(f"institution:{world.GZ_HOSPITAL}"))
    lines = [line(f"{n:04d}", "XA001", "1", f"{n + 1}.00", (n + 1) * 100) for n in range(10)]
    with store.env.begin() as txn:
        before = {space: txn.stat(store.dbs[space]) for space in ("settlements", "requests")}
    for n in range(SETTLEMENTS):
        served.run(stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
            request_id=f"GROW-{n:04d}", claim=claim("P001", world.GZ_HOSPITAL, lines))))
    with store.env.begin() as txn:
        after = {space: txn.stat(store.dbs[space]) for space in ("settlements", "requests")}

    def pages(stat) -> int:
        return stat["branch_pages"] + stat["leaf_pages"] + stat["overflow_pages"]

    used = sum(pages(after[space]) - pages(before[space]) for space in after)
    assert after["settlements"]["overflow_pages"] == 0 and after["requests"]["overflow_pages"] == 0
    assert used / SETTLEMENTS < 0.6, f"{used / SETTLEMENTS:.2f} pages per settlement"
