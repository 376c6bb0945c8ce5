"""One shard of a sharded deployment, in process (the real Envoy in front of three is tests/cluster/): the guard
refuses what is not the shard's before anything is read; PutPersons keeps its own insured and the directory of the
others; FindInsuredPlace answers from either; ids end in the shard's index."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from medsettle.domain import shards
from medsettle.server import start
from medsettle.service import placement
from medsettle.service.app import App
from medsettle.service.placement import INSURED_PLACE_KEY, SHARD_KEY
from medsettle.store.env import Store, StoreConfig
from medsettle.store.writer import GroupCommitWriter
from medsettle.v1 import person_pb2, person_pb2_grpc, reference_data_pb2, reference_data_pb2_grpc
from medsettle.v1 import settlement_pb2_grpc as settlement_grpc
from tests.conftest import TEST_MAP_SIZE_BYTES, Running, rpc_error_info
from tests.service.test_bad_input_sweep import SERVICE_OF
from tests.service.test_settlements import claim, line

SHARD_MAP = shards.split(3)  # shard-0 owns 110000 .. 330000, shard-1 340000 .. 500000, shard-2 the rest


class Served:
    """A shard served in process over its own store directory."""

    def __init__(self, path, shard_map, name, clock, loop=None) -> None:
        self.store = Store(StoreConfig(path=str(path), map_size_bytes=TEST_MAP_SIZE_BYTES,
                                       shard_index=shard_map.names.index(name)))
        self.writer = GroupCommitWriter(self.store)
        self.loop = loop or asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        app = App(store=self.store, writer=self.writer, clock=clock, shard_map=shard_map, shard_name=name)
        server, _, port = self.loop.run_until_complete(start(app, "127.0.0.1:0", so_reuseport=False))
        self.running = Running(app, self.loop, server, port)

    def close(self, *, last: bool = True) -> None:
        self.running.close()
        self.writer.close()
        self.store.close()
        if last:
            asyncio.set_event_loop(None)
            self.loop.close()


@pytest.fixture
def shard_dir(tmp_path, world):
    """The hand-made world's store (Beijing's insured) as shard-0's."""
    path = tmp_path / "shard-0"
    store = Store(StoreConfig(path=str(path), map_size_bytes=TEST_MAP_SIZE_BYTES))
    with store.write() as view:
        world.build(view)
    store.close()
    return path


@pytest.fixture
def shard(shard_dir, clock):
    served = Served(shard_dir, SHARD_MAP, "shard-0", clock)
    yield served.running
    served.close()


def test_every_rpc_has_a_placement():
    assert set(placement.TABLE) == {f"{service}/{rpc}" for rpc, service in SERVICE_OF.items()}
    assert set(placement.TABLE.values()) == {placement.INSURED, placement.ANY, placement.EVERY, placement.GATHER}


def test_the_guard_refuses_what_is_not_the_shards_own(shard, world):
    persons = person_pb2_grpc.PersonServiceStub(shard.channel)
    request = person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no="P001"))
    cases = [((), "INSURED_PLACE_REQUIRED", grpc.StatusCode.INVALID_ARGUMENT),
             (((INSURED_PLACE_KEY, "99x"),), "INSURED_PLACE_UNKNOWN", grpc.StatusCode.INVALID_ARGUMENT),
             (((INSURED_PLACE_KEY, "440106"),), "WRONG_SHARD", grpc.StatusCode.UNAVAILABLE)]
    for metadata, reason, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            shard.run(persons.GetPerson(request, metadata=metadata))
        assert refused.value.code() == code
        found, info, _ = rpc_error_info(refused.value)
        assert found == [reason] and info["shard"] == "shard-0" and info["rpc"] == "GetPerson"
    assert shard.run(persons.GetPerson(request, metadata=((INSURED_PLACE_KEY, "110105"),))).baseinfo.psn_no == "P001"
    # A push must name the shard; a statement too; a catalog read needs neither.
    push = reference_data_pb2_grpc.ReferenceDataServiceStub(shard.channel)
    institution = reference_data_pb2.Institution(fixmedins_code="H11010599998", fixmedins_name="医院", admdvs="110105",
                                                 hosp_lv="2")
    put = reference_data_pb2.PutInstitutionsRequest(request_id="I-1", institutions=[institution])
    for metadata, reason in (((), "SHARD_REQUIRED"), (((SHARD_KEY, "shard-2"),), "WRONG_SHARD")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            shard.run(push.PutInstitutions(put, metadata=metadata))
        assert rpc_error_info(refused.value)[0] == [reason]
    assert shard.run(push.PutInstitutions(put, metadata=((SHARD_KEY, "shard-0"),))).institutions_written == 1
    assert shard.run(push.GetCatalogItem(reference_data_pb2.GetCatalogItemRequest(
        mdtrtarea_admvs="440000", med_list_codg="XA001"))).item.med_list_codg == "XA001"


def test_persons_of_other_shards_go_to_the_directory_and_find_insured_place_answers_for_everyone(shard, store):
    push = reference_data_pb2_grpc.ReferenceDataServiceStub(shard.channel)
    beijing = reference_data_pb2.Person(psn_no="P101", psn_name="甲", gend="1", brdy="1970-01-01",
                                        certno="110105197001010011", insuinfo=[reference_data_pb2.InsuranceInfo(
                                            insutype="310", psn_type="11", psn_insu_stas="1", insuplc_admdvs="110105")])
    guangdong = reference_data_pb2.Person()
    guangdong.CopyFrom(beijing)
    guangdong.psn_no, guangdong.certno, guangdong.insuinfo[0].insuplc_admdvs = "P102", "440106198001010022", "440106"
    both = reference_data_pb2.Person()
    both.CopyFrom(beijing)
    both.psn_no, both.certno = "P103", "110105197001010033"
    both.insuinfo.add(insutype="390", psn_type="13", psn_insu_stas="1", insuplc_admdvs="440106")
    on_shard = ((SHARD_KEY, "shard-0"),)
    answer = shard.run(push.PutPersons(reference_data_pb2.PutPersonsRequest(
        request_id="P-1", persons=[beijing, guangdong]), metadata=on_shard))
    assert (answer.persons_written, answer.persons_in_directory) == (1, 1)
    with shard.app.store.read() as view:
        assert view.person("P101") is not None and view.person("P102") is None
        assert view.directory_entry("P102").insuplc_admdvs == "440000"
        assert view.directory_psn_no("02", "440106198001010022") == "P102"
    with pytest.raises(grpc.aio.AioRpcError) as spans:
        shard.run(push.PutPersons(reference_data_pb2.PutPersonsRequest(request_id="P-2", persons=[both]),
                                  metadata=on_shard))
    assert rpc_error_info(spans.value)[0] == ["PERSON_SPANS_SHARDS"]
    # A credential held in the directory is taken: no province gives it to a person of its own.
    thief = reference_data_pb2.Person()
    thief.CopyFrom(beijing)
    thief.psn_no, thief.certno = "P104", guangdong.certno
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        shard.run(push.PutPersons(reference_data_pb2.PutPersonsRequest(request_id="P-3", persons=[thief]),
                                  metadata=on_shard))
    assert rpc_error_info(taken.value)[0] == ["CREDENTIAL_IN_USE"]

    hospital = person_pb2_grpc.PersonServiceStub(shard.as_("institution:H44010600001"))
    for certno, province in (("110105197001010011", "110000"), ("440106198001010022", "440000")):
        found = shard.run(hospital.FindInsuredPlace(person_pb2.FindInsuredPlaceRequest(
            person=person_pb2.PersonRef(mdtrt_cert_type="02", mdtrt_cert_no=certno))))
        assert found.insuplc_admdvs == province
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        shard.run(hospital.FindInsuredPlace(person_pb2.FindInsuredPlaceRequest(
            person=person_pb2.PersonRef(mdtrt_cert_type="02", mdtrt_cert_no="110105199901019999"))))
    assert rpc_error_info(unknown.value)[0] == ["PERSON_NOT_FOUND"]
    # The person moves to Guangdong (another shard): this shard keeps them in its directory only.
    moved = reference_data_pb2.Person()
    moved.CopyFrom(beijing)
    moved.insuinfo[0].insuplc_admdvs = "440106"
    assert shard.run(push.PutPersons(reference_data_pb2.PutPersonsRequest(request_id="P-4", persons=[moved]),
                                     metadata=on_shard)).persons_in_directory == 1
    with shard.app.store.read() as view:
        assert view.person("P101") is None and view.psn_no_by_cert("02", beijing.certno) is None
        assert view.directory_psn_no("02", beijing.certno) == "P101"
    # A call routed here for a person now elsewhere says where they are.
    with pytest.raises(grpc.aio.AioRpcError) as elsewhere:
        shard.run(person_pb2_grpc.PersonServiceStub(shard.channel).GetPerson(
            person_pb2.GetPersonRequest(person=person_pb2.PersonRef(psn_no="P101")),
            metadata=((INSURED_PLACE_KEY, "110105"),)))
    assert "insured in 440000" in rpc_error_info(elsewhere.value)[1]["detail"]


def test_a_shards_ids_end_in_its_index(shard, world):
    stub = settlement_grpc.SettlementServiceStub(shard.as_gateway())
    from medsettle.v1 import settlement_pb2

    answer = shard.run(stub.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
        request_id="S-1", claim=claim("P001", world.GZ_HOSPITAL, [line("1", "XA001", "1", "10.00", 1000)])),
        metadata=((INSURED_PLACE_KEY, "110105"),)))
    assert answer.settlement.setl_id[-12:] == "000000000100"  # the first settlement of shard index 00


def test_a_new_shard_split_off_offline_takes_its_provinces_whole_and_clearing_is_unchanged(shard_dir, tmp_path, clock,
                                                                                            world):
    """docs/operations.md, "Adding a shard": shard-3 takes Beijing from shard-0 (stopped; its store copied)."""
    from medsettle.cluster import split
    from medsettle.v1 import clearing_pb2, clearing_pb2_grpc, settlement_pb2

    beijing = ((INSURED_PLACE_KEY, "110105"),)
    gz_line = [line("1", "XA001", "2", "100.00", 20_000)]
    before = Served(shard_dir, SHARD_MAP, "shard-0", clock)
    settle = settlement_grpc.SettlementServiceStub(before.running.as_gateway())
    for n in range(2):
        before.running.run(settle.SettleOutpatient(settlement_pb2.SettleOutpatientRequest(
            request_id=f"S-{n}", claim=claim("P001", world.GZ_HOSPITAL, gz_line)), metadata=beijing))
    month = clock.today()[:7]
    statement_request = clearing_pb2.GetClearingStatementRequest(month=month)
    whole = before.running.run(clearing_pb2_grpc.ClearingServiceStub(before.running.channel).GetClearingStatement(
        statement_request, metadata=((SHARD_KEY, "shard-0"),))).statement
    accumulated = before.running.run(person_pb2_grpc.PersonServiceStub(before.running.channel).GetAccumulators(
        person_pb2.GetAccumulatorsRequest(psn_no="P001"), metadata=beijing)).accumulators
    loop = before.loop
    before.close(last=False)

    after_map = split.new_map(SHARD_MAP, "shard-0", ("110000",), "shard-3")
    assert after_map.names[-1] == "shard-3" and after_map.owner_of("110000").name == "shard-3"
    split.copy_store(str(shard_dir), str(tmp_path / "shard-3"))
    with pytest.raises(split.SplitRefused, match="not empty"):
        split.copy_store(str(shard_dir), str(tmp_path / "shard-3"))
    assert split.rehome(str(shard_dir), after_map, "shard-0") == len(world.PERSONS)  # Beijing's, all of them
    assert split.rehome(str(tmp_path / "shard-3"), after_map, "shard-3") == 0
    old = Served(shard_dir, after_map, "shard-0", clock, loop)
    new = Served(tmp_path / "shard-3", after_map, "shard-3", clock, loop)
    try:
        parts = []
        for served, name in ((old, "shard-0"), (new, "shard-3")):
            parts.append(served.running.run(clearing_pb2_grpc.ClearingServiceStub(served.running.channel)
                                            .GetClearingStatement(statement_request,
                                                                  metadata=((SHARD_KEY, name),))).statement)
        from medsettle.domain import clearing

        assert not clearing.decode(parts[0].canonical).pairs  # shard-0 answers for its own insured only now
        gathered = clearing.gathered(month, [clearing.decode(part.canonical) for part in parts])
        assert clearing.canonical_bytes(gathered) == whole.canonical
        # Beijing's insured settle on shard-3, their accumulators whole; shard-0 refuses them.
        with pytest.raises(grpc.aio.AioRpcError) as wrong:
            old.running.run(settlement_grpc.SettlementServiceStub(old.running.as_gateway()).SettleOutpatient(
                settlement_pb2.SettleOutpatientRequest(request_id="S-9", claim=claim("P001", world.GZ_HOSPITAL,
                                                                                     gz_line)), metadata=beijing))
        assert rpc_error_info(wrong.value)[0] == ["WRONG_SHARD"]
        # A gateway that names a province shard-0 still owns for Beijing's insured finds nobody to settle or reverse:
        # their copies there are history, never changed.
        lying = ((INSURED_PLACE_KEY, "120000"),)
        first_setl = old.running.run(settlement_grpc.SettlementServiceStub(old.running.as_gateway()).SettleOutpatient(
            settlement_pb2.SettleOutpatientRequest(request_id="S-0", claim=claim("P001", world.GZ_HOSPITAL,
                                                                                 gz_line)), metadata=lying))
        for call in (
                settlement_grpc.SettlementServiceStub(old.running.as_gateway()).SettleOutpatient(
                    settlement_pb2.SettleOutpatientRequest(request_id="S-8", claim=claim("P001", world.GZ_HOSPITAL,
                                                                                         gz_line)), metadata=lying),
                settlement_grpc.SettlementServiceStub(old.running.as_gateway()).ReverseSettlement(
                    settlement_pb2.ReverseSettlementRequest(request_id="R-8", fixmedins_code=world.GZ_HOSPITAL,
                                                            setl_id=first_setl.settlement.setl_id), metadata=lying)):
            with pytest.raises(grpc.aio.AioRpcError) as nobody:
                old.running.run(call)
            assert rpc_error_info(nobody.value)[0] == ["PERSON_NOT_FOUND"]
        persons = person_pb2_grpc.PersonServiceStub(new.running.channel)
        assert new.running.run(persons.GetAccumulators(person_pb2.GetAccumulatorsRequest(psn_no="P001"),
                                                       metadata=beijing)).accumulators == accumulated
        answer = new.running.run(settlement_grpc.SettlementServiceStub(new.running.as_gateway()).SettleOutpatient(
            settlement_pb2.SettleOutpatientRequest(request_id="S-9", claim=claim("P001", world.GZ_HOSPITAL, gz_line)),
            metadata=beijing))
        assert answer.settlement.setl_id.endswith("03")
        # A request id answered before the split is answered the same after it, by the new owner.
        again = new.running.run(settlement_grpc.SettlementServiceStub(new.running.as_gateway()).SettleOutpatient(
            settlement_pb2.SettleOutpatientRequest(request_id="S-1", claim=claim("P001", world.GZ_HOSPITAL, gz_line)),
            metadata=beijing))
        assert again.settlement.setl_id.endswith("00")
    finally:
        old.close(last=False)
        new.close()
