"""A full store: every write answers RESOURCE_EXHAUSTED with the reason STORE_FULL and a remedy, nothing is half
written, reads keep working, the write services report NOT_SERVING, the log warns; a restart with a larger map
serves writes again.

Before the fix: INTERNAL, and health stayed SERVING.
"""

from __future__ import annotations

import time

import grpc

from medsettle.service import identity
from medsettle.store.env import Store, StoreConfig
from medsettle.v1 import person_pb2, reference_data_pb2, reference_data_pb2_grpc
from tests import world
from tests.fault.harness import (
    ServerProcess,
    accumulators,
    build_nation,
    gateway_channel,
    settle_request,
    status_info,
    status_reason,
    stubs,
)

PLATFORM = identity.metadata("province:440000")  # the place of treatment pushes its catalog
SERVING, NOT_SERVING = 1, 2


def _push(n: int, size: int) -> reference_data_pb2.PutCatalogItemsRequest:
    items = [reference_data_pb2.CatalogItem(
        med_list_codg=f"FULL{n:05d}{i:05d}", name="填满存储的测试项目", list_type="201", chrgitm_lv="01",
        pric_uplmt_amt=1000, begndate="2025-01-01") for i in range(size)]
    return reference_data_pb2.PutCatalogItemsRequest(request_id=f"FULL-{n:05d}", mdtrtarea_admvs="440000", items=items)


def test_a_full_store_refuses_writes_clearly_keeps_reads_and_writes_nothing_half(tmp_path):
    data_dir = str(tmp_path / "data")
    build_nation(data_dir)
    acknowledged_items = 0
    with ServerProcess(data_dir, tmp_path / "server.log", "--map-size-gib", "0.01") as server:
        server.wait_serving()
        with gateway_channel(server.target) as channel:
            reference = reference_data_pb2_grpc.ReferenceDataServiceStub(channel)
            settlements, persons = stubs(channel)
            n = 0
            for size in (5_000, 500, 50, 5, 1):  # fill it to the last page
                while True:
                    n += 1
                    try:
                        acknowledged_items += reference.PutCatalogItems(_push(n, size), timeout=60,
                                                                        metadata=PLATFORM).items_written
                    except grpc.RpcError as error:
                        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
                        assert status_info(error) == ("STORE_FULL", {"remedy": "RETRY_LATER", "reason_count": "1",
                                                                     "detail": status_info(error)[1]["detail"]}), error
                        break
            assert acknowledged_items > 0

            # A settlement is smaller than a push: some may still fit. Settle until one does not.
            for n in range(10_000):
                try:
                    settlements.SettleOutpatient(settle_request(f"FULL-SETTLE-{n:05d}"), timeout=10)
                except grpc.RpcError as error:
                    assert (error.code(), status_reason(error)) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "STORE_FULL")
                    break
            else:
                raise AssertionError("10,000 settlements fitted into a full store")
            settled = n
            assert accumulators(channel, "P001").visits_outpatient == settled  # the refused one left nothing

            # Reads keep working.
            person = persons.GetPerson(person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no="P001")),
                                       timeout=10)
            assert person.baseinfo.psn_no == "P001"
            item = reference.GetCatalogItem(reference_data_pb2.GetCatalogItemRequest(
                mdtrtarea_admvs="440000", med_list_codg="FULL0000100000", date="2026-01-01"), timeout=10)
            assert item.item.med_list_codg == "FULL0000100000"

            # The write services are out of service (the watchdog looks twice a second); reads are not; a load
            # balancer sees the whole as NOT_SERVING.
            deadline = time.monotonic() + 5
            while server.health("medsettle.v1.SettlementService") != NOT_SERVING:
                assert time.monotonic() < deadline, "SettlementService still SERVING with a full store"
                time.sleep(0.1)
            assert server.health("") == NOT_SERVING
            assert server.health("medsettle.v1.PersonService") == SERVING
        assert server.events("store_full")
        assert server.events("store_map_filling")
        server.signal(15)
        assert server.wait(60) == 0

    store = Store(StoreConfig(path=data_dir, map_size_bytes=2**30))
    held = store.counts()["catalog"] - len(world.CATALOG) * 3
    store.close()
    assert held == acknowledged_items  # every acknowledged push whole, nothing of a refused one

    with ServerProcess(data_dir, tmp_path / "server2.log") as bigger:  # the remedy: a larger map
        bigger.wait_serving()
        with gateway_channel(bigger.target) as channel:
            retried = stubs(channel)[0].SettleOutpatient(settle_request(f"FULL-SETTLE-{settled:05d}"), timeout=10)
            assert retried.settlement.setl_id  # the refused request, retried with its id, settles now
            assert accumulators(channel, "P001").visits_outpatient == settled + 1
