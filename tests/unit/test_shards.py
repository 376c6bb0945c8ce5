"""The shard map, the statement gathered from shards, and the x-forwarded-client-cert a proxy sets."""

from __future__ import annotations

import grpc
import pytest

from medsettle import tls
from medsettle.domain import clearing, region, shards
from medsettle.domain.clearing import Totals


def test_split_gives_every_province_one_owner_in_runs_of_neighbours():
    for count in (1, 2, 3, 7, 32):
        shard_map = shards.split(count)
        owned = [province for shard in shard_map.shards for province in shard.provinces]
        assert sorted(owned) == sorted(region.PROVINCES) and len(set(owned)) == len(owned)
        sizes = [len(shard.provinces) for shard in shard_map.shards]
        assert max(sizes) - min(sizes) <= 1
        assert shards.parse(shards.encode(shard_map)) == shard_map
    three = shards.split(3)
    assert three.owner_of("110000").name == "shard-0" and three.owner_of("440000").name == "shard-1"
    assert three.owner_of("660000").name == "shard-2"


@pytest.mark.parametrize(("text", "message"), [
    (b'{"shards": []}', "1 to 32 shards"),
    (b'{"shards": [{"name": "a", "provinces": ["110000"]}]}', "no shard owns"),
    (b'{"shards": [{"name": "A", "provinces": ["110000"]}]}', "lower-case"),
    (b'{"shards": [{"name": "a", "provinces": ["110100"]}]}', "not one of the 32"),
    (b'{"shards": [{"name": "a", "provinces": ["110000"]}, {"name": "b", "provinces": ["110000"]}]}', "owned by both"),
    (b'{"shards": [{"name": "a", "provinces": ["110000"], "extra": 1}]}', "not a shard map"),
    (b"{", "not JSON"),
])
def test_a_map_that_leaves_a_province_unowned_or_owned_twice_is_refused(text, message):
    with pytest.raises(shards.ShardMapError, match=message):
        shards.parse(text)


def test_a_person_is_kept_whole_on_one_shard():
    three = shards.split(3)
    assert shards.owner_of_regions(three, ("110105", "120101")).name == "shard-0"  # two provinces, one shard
    assert shards.owner_of_regions(three, ("110105", "440106")) is None


def test_a_statement_gathered_from_shards_is_the_one_host_statement_byte_for_byte():
    month = "2026-03"
    pairs = {("110000", "440000"): Totals(setl_cnt=3, medfee_sumamt_fen=9_000, fund_pay_sumamt_fen=6_000, acct_pay_fen=500),
             ("440000", "110000"): Totals(setl_cnt=1, medfee_sumamt_fen=2_000, fund_pay_sumamt_fen=1_200),
             ("510000", "440000"): Totals(setl_cnt=-1, medfee_sumamt_fen=-700, fund_pay_sumamt_fen=-400,
                                          deduction_cnt=1, deducted_fen=100)}
    whole = clearing.statement(month, pairs.items())
    three = shards.split(3)
    parts = [clearing.statement(month, [(pair, totals) for pair, totals in pairs.items()
                                        if three.owner_of(pair[0]).name == shard.name]) for shard in three.shards]
    assert clearing.canonical_bytes(clearing.gathered(month, parts)) == clearing.canonical_bytes(whole)
    # A pair found on two shards (a province moved within the month) adds up.
    half = Totals(setl_cnt=1, medfee_sumamt_fen=100, fund_pay_sumamt_fen=60)
    split_pair = [clearing.statement(month, [(("110000", "440000"), half)])] * 2
    assert clearing.gathered(month, split_pair).pairs[0].setl_cnt == 2


@pytest.mark.parametrize(("header", "caller"), [
    ("By=medsettle:proxy:envoy;Hash=ab12;URI=medsettle:institution:H44010600001", "medsettle:institution:H44010600001"),
    ('URI=medsettle:national:ops,By=x;Hash="a,b;c=d";URI=medsettle:province:440000', "medsettle:province:440000"),
    ("Hash=ab;URI=spiffe://other;URI=medsettle:national:ops", "medsettle:national:ops"),
    ("URI=medsettle:province:440000;URI=medsettle:national:ops", None),  # two callers name no caller
    ("Hash=ab", None),
    ("URI=medsettle:province:449999", None),
    ("", None),
])
def test_the_forwarded_caller_is_the_one_medsettle_uri_of_the_last_element(header, caller):
    found = tls.caller_forwarded(header)
    assert (found.uri if found else None) == caller


class _Failed(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._code.name


def test_a_lost_answer_is_asked_again_with_the_same_request_and_a_refusal_is_not(monkeypatch):
    """fanout.call_retrying (gathering calls and the loader's pushes): UNAVAILABLE or DEADLINE_EXCEEDED is sent
    again, the same request object with the same metadata (so its request id makes a committed push answer as
    before), at most ATTEMPTS_MAX times; anything else is raised at once."""
    from medsettle.cluster import fanout

    monkeypatch.setattr(fanout, "RETRY_PAUSE_S", 0.0)
    sent: list[tuple] = []

    def method(outcomes):
        def call(request, metadata, timeout):
            sent.append((request, metadata))
            outcome = outcomes.pop(0)
            if isinstance(outcome, grpc.StatusCode):
                raise _Failed(outcome)
            return outcome
        return call

    request, metadata = object(), (("x-medsettle-request-id", "R1"),)
    lost = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, "answer"]
    assert fanout.call_retrying(method(lost), request, metadata=metadata) == "answer"
    assert sent == [(request, metadata)] * 3
    sent.clear()
    with pytest.raises(grpc.RpcError) as refused:
        fanout.call_retrying(method([grpc.StatusCode.INVALID_ARGUMENT, "never"]), request, metadata=metadata)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and len(sent) == 1
    sent.clear()
    with pytest.raises(grpc.RpcError):
        fanout.call_retrying(method([grpc.StatusCode.UNAVAILABLE] * fanout.ATTEMPTS_MAX + ["late"]), request)
    assert len(sent) == fanout.ATTEMPTS_MAX
