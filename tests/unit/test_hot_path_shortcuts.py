"""The settlement path's shortcuts (bench/RESULTS.md, issue 15) give exactly what the general way gives: an answer
built in place, remembered provinces and dates, and the additions that skip empty parts."""

from __future__ import annotations

import zlib

import pytest

from medsettle.domain import dates, region
from medsettle.domain import supervision_stats as stats
from medsettle.domain.adjudication import adjudicate
from medsettle.domain.records import Accumulators, DiseaseCap, add_accumulators
from medsettle.domain.reversal import reverse
from medsettle.service import settlement_convert
from medsettle.store import keys, supervision_book
from medsettle.v1 import settlement_pb2
from tests.unit.test_adjudication import BIG_FEN, inputs, lines, policy


def _settlements():
    plain = adjudicate(inputs(lines(("A001", 10_000), ("B010", 5_000), ("C001", 2_000)), policy()))
    with_account = adjudicate(inputs(lines(("A001", 10_000)), policy(acct_pay_allowed=True), acct_used_flag=True,
                                     acct_balc_fen=3_000))
    chronic = adjudicate(inputs(lines(("A001", 10_000)), policy(category="2", hifob_ratio_bp=5000,
                                                                 hifob_cap_fen=BIG_FEN),
                                med_type="14", dise_codg="M03900"))
    return [plain, with_account, chronic, reverse(plain, "S2", 1_709_700_000_000, "2024-03-06")]


@pytest.mark.parametrize("response_type", [settlement_pb2.SettleOutpatientResponse,
                                           settlement_pb2.SettleInpatientResponse,
                                           settlement_pb2.ReverseSettlementResponse])
def test_an_answer_built_in_place_is_the_answer_built_whole(response_type):
    for setl in _settlements():
        whole = response_type(settlement=settlement_convert.settlement_pb(setl))
        in_place = settlement_convert.answer(response_type, setl)
        assert in_place == whole
        assert in_place.SerializeToString(deterministic=True) == whole.SerializeToString(deterministic=True)
        assert len(in_place.settlement.lines) == len(setl.lines) and in_place.settlement.explanation


def test_a_settlement_inside_a_larger_answer_is_filled_in_place_as_a_copy_would_be():
    for setl in _settlements():  # 冲正 by request id answers the reversal beside the original method
        copied = settlement_pb2.ReverseByRequestIdResponse(original_method="SettleOutpatient", undone=True)
        copied.reversal.CopyFrom(settlement_convert.settlement_pb(setl))
        filled = settlement_pb2.ReverseByRequestIdResponse(original_method="SettleOutpatient", undone=True)
        settlement_convert.settlement_into(filled.reversal, setl)
        assert filled.SerializeToString(deterministic=True) == copied.SerializeToString(deterministic=True)


def test_remembered_provinces_and_dates_are_computed_ones_and_bad_input_still_fails():
    for code in ("110105", "440100", "110105", "650000"):
        assert region.province_of(code) == code[:2] + "0000"
    for bad in ("11010", "1101O5", "１１０１０５"):
        with pytest.raises(AssertionError):
            region.province_of(bad)
        with pytest.raises(AssertionError):  # asked again: still refused, never remembered
            region.province_of(bad)
    assert dates.add_days("2024-02-28", 1) == "2024-02-29" and dates.add_days("2024-03-01", -1) == "2024-02-29"
    assert dates.add_days("2026-12-04", -89) == "2026-09-06" == dates.add_days("2026-12-04", -89)
    with pytest.raises(AssertionError):
        dates.add_days("2026-02-30", 1)


def test_accumulators_added_without_disease_entries_keep_the_base_ones():
    base = Accumulators(hifp_chronic_fen=500, dise_hifp=(DiseaseCap(opsp_dise_code="M01600", cap_fen=200),
                                                         DiseaseCap(opsp_dise_code="M03900", cap_fen=300)))
    delta = Accumulators(hifp_outpatient_fen=70, hifp_overall_fen=70, visits_outpatient=1)
    for sign in (1, -1):
        added = add_accumulators(base, delta, sign)
        assert added.dise_hifp == base.dise_hifp
        assert (added.hifp_outpatient_fen, added.hifp_chronic_fen, added.visits_outpatient) == (70 * sign, 500, sign)
    # With disease entries the general way runs: merged, sorted, zeros dropped.
    chronic = Accumulators(dise_hifp=(DiseaseCap(opsp_dise_code="M01600", cap_fen=-200),
                                      DiseaseCap(opsp_dise_code="M00100", cap_fen=5)))
    assert add_accumulators(base, chronic).dise_hifp == (DiseaseCap(opsp_dise_code="M00100", cap_fen=5),
                                                         DiseaseCap(opsp_dise_code="M03900", cap_fen=300))


def test_a_days_statistics_plus_nothing_flagged_or_refused_keeps_its_counts():
    day = stats.total([stats.of_refusal(["R2"]), stats.of_refusal(["R1"]), stats.of_flags(["RULE-B", "RULE-A"])])
    plain = stats.DayStats(setl_cnt=1, medfee_sumamt_fen=100)
    assert stats.add(day, plain).refusals == day.refusals == (stats.Count(code="R1", n=1), stats.Count(code="R2", n=1))
    assert stats.add(day, plain).flags == day.flags == (stats.Count(code="RULE-A", n=1),
                                                        stats.Count(code="RULE-B", n=1))
    assert stats.add(day, stats.of_flags(["RULE-A"])).flags == (stats.Count(code="RULE-A", n=2),
                                                                 stats.Count(code="RULE-B", n=1))


def test_a_key_is_checked_part_by_part_only_when_it_is_long():
    assert keys.key("X" * keys.MAX_PART_BYTES) == b"X" * keys.MAX_PART_BYTES
    assert keys.key("440000", "X" * 40, "Y" * 40) == b"440000\x00" + b"X" * 40 + b"\x00" + b"Y" * 40
    with pytest.raises(AssertionError):
        keys.key("440000", "X" * (keys.MAX_PART_BYTES + 1), "2026-01-01")
    with pytest.raises(AssertionError):
        keys.key("X\x00Y", "Z")


def test_the_items_a_settlement_feeds_are_those_of_the_checksum_of_its_id_and_the_code():
    ids = [f"S20261204{n:012d}" for n in range(300)]
    item_codes = [f"XA{n:04d}" for n in range(40)] + ["A-1.b_2", "0011"]
    fed = 0
    for setl_id in ids:
        expected = [code for code in item_codes if zlib.crc32(f"{setl_id}/{code}".encode("ascii"))
                    % supervision_book.SKETCH_ITEM_SAMPLE_EVERY == 0]
        assert supervision_book.sampled(setl_id, item_codes) == expected
        fed += len(expected)
    assert 0.2 < fed / (len(ids) * len(item_codes)) < 0.3  # one in four


def test_an_answer_given_as_bytes_is_sent_as_it_is_and_a_message_is_serialized():
    import grpc

    from medsettle.service.layers import PassingBytes

    async def behavior(request, context):
        return request

    unary = grpc.unary_unary_rpc_method_handler(
        behavior, request_deserializer=bytes, response_serializer=settlement_pb2.SettleOutpatientResponse.SerializeToString)
    layer = PassingBytes()
    handler = layer.wrap("/m/Unary", unary)
    answer = settlement_convert.answer(settlement_pb2.SettleOutpatientResponse, _settlements()[0])
    assert handler.response_serializer(answer) == answer.SerializeToString()
    assert handler.response_serializer(b"\x0a\x02\x0a\x00") == b"\x0a\x02\x0a\x00"  # bytes: untouched, unparsed
    assert handler.unary_unary is behavior and handler.request_deserializer is bytes
    assert layer.wrap("/m/Unary", unary) is handler  # built once per method, as every layer's wrapper
    streaming = grpc.unary_stream_rpc_method_handler(behavior)
    assert layer.wrap("/m/Stream", streaming) is streaming


def test_a_caller_named_again_is_the_one_parsed_and_a_bad_name_stays_refused():
    from medsettle.service import identity

    first = identity.parse("medsettle:institution:H44010001")
    assert first == identity.Caller(identity.INSTITUTION, "H44010001")
    assert identity.parse("medsettle:institution:H44010001") is first
    assert identity.parse("institution:H44010001") == first
    for bad in ("medsettle:institution:bad id", "medsettle:province:990000", "medsettle:nobody:x", "x" * 65):
        assert identity.parse(bad) is None and identity.parse(bad) is None
        assert bad not in identity._parsed


def test_a_fee_line_code_is_remembered_only_when_well_formed_and_a_bad_one_is_named_every_time():
    from medsettle.domain.reasons import Refusal
    from medsettle.v1 import common_pb2

    def lines(item_code: str):
        return [common_pb2.FeeLine(feedetl_sn="1", med_list_codg=item_code, cnt="1", pric="1.5",
                                   det_item_fee_sumamt=150, fee_ocur_time="2026-03-02")]

    assert settlement_convert.fee_lines(lines("XA001"), "claim.fee_lines", 10)[0].med_list_codg == "XA001"
    assert "XA001" in settlement_convert._codes_ok
    for _ in range(2):
        with pytest.raises(Refusal) as refused:
            settlement_convert.fee_lines(lines("XA 001"), "claim.fee_lines", 10)
        assert refused.value.field == "claim.fee_lines[0].med_list_codg"
        assert "XA 001" not in settlement_convert._codes_ok


def test_every_method_is_served_by_one_generic_look_up_and_none_is_registered_with_grpc():
    """grpc.aio waits on one pending request per registered method for every call (~12 us with ~50 methods):
    `Layers.on` serves them all, and what is registered without a name, through one generic handler, each wrapped
    once."""
    import grpc
    from google.protobuf import descriptor_pool

    from medsettle.service import reflection, registry
    from medsettle.service.app import App
    from medsettle.service.layers import Layers

    class RecordingServer:
        def __init__(self):
            self.generic: list = []

        def add_generic_rpc_handlers(self, handlers):
            self.generic.extend(handlers)

        def add_registered_method_handlers(self, service, handlers):
            raise AssertionError(f"{service} registered with gRPC")

    class Details(grpc.HandlerCallDetails):
        def __init__(self, method):
            self.method, self.invocation_metadata = method, ()

    server = RecordingServer()
    registering = Layers([]).on(server)
    names = registry.add_all(registering, App.__new__(App))
    reflection.enable(registering, names)  # registered without names: served by the same handler, wrapped once
    assert len(server.generic) == 1  # one handler with gRPC
    by_method = server.generic[0]
    pool = descriptor_pool.Default()
    methods = [f"/{name}/{m.name}" for name in names for m in pool.FindServiceByName(name).methods]
    methods += [f"/{name}/ServerReflectionInfo" for name in (reflection.V1_SERVICE_NAME, reflection.V1ALPHA_SERVICE_NAME)]
    assert len(methods) > 40
    for method in methods:
        handler = by_method.service(Details(method))
        assert handler is not None and handler is by_method.service(Details(method)), method  # wrapped once
    settle = by_method.service(Details("/medsettle.v1.SettlementService/SettleOutpatient"))
    assert settle.response_serializer(b"\x0a\x00") == b"\x0a\x00"  # in the layers (PassingBytes, innermost)
    assert by_method.service(Details("/medsettle.v1.SettlementService/NoSuchMethod")) is None
