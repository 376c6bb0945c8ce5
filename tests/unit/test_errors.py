"""Refusals as google.rpc.Status: whatever a refusal carries, the status fits gRPC's trailers."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from google.rpc import error_details_pb2, status_pb2

from medsettle.domain import reasons
from medsettle.domain.reasons import Refusal
from medsettle.service import errors


def test_the_largest_refusal_still_fits_the_trailers():
    # 10,000 lines (a stay's limit), each with the longest field name and detail the rules could write.
    each = Refusal(reasons.UNKNOWN_CATALOG_ITEM, field="claim.fee_lines[9999].med_list_codg", feedetl_sn="S" * 40,
                   detail="项" * 1000)
    status = errors.to_status(Refusal.of_all([each] * 10_000))
    details_bin = dict(status.trailing_metadata)["grpc-status-details-bin"]
    trailer_bytes = len(details_bin) * 4 // 3 + len(quote(status.details, safe=""))
    assert trailer_bytes < 8 * 1024, trailer_bytes  # gRPC's soft limit; the hard one is 16 KiB
    assert f"and {10_000 - errors.MESSAGE_SHOWN} more" in status.details


def test_a_detail_arrives_whole_and_a_long_value_is_shortened_visibly_not_cut():
    from medsettle.service import convert

    with pytest.raises(Refusal) as date_refusal:
        convert.date("2026-13-01", "begndate")
    with pytest.raises(Refusal) as code_refusal:
        convert.code("X" * 500 + "!", "med_list_codg")
    for refusal in (date_refusal.value, code_refusal.value):
        info = error_details_pb2.ErrorInfo()
        status = status_pb2.Status.FromString(dict(errors.to_status(refusal).trailing_metadata)["grpc-status-details-bin"])
        assert status.details[0].Unpack(info)
        assert info.metadata["detail"] == refusal.detail
    assert date_refusal.value.detail.endswith("between 1900-01-01 and 2199-12-31, got '2026-13-01'")
    assert code_refusal.value.detail.endswith(f"got {'X' * 40!r}… (501 characters)")


def test_a_detail_too_long_for_the_trailers_is_cut_at_a_word_and_marked():
    long = Refusal(reasons.INVALID_ARGUMENT, field="f", detail="word " * 100)
    assert errors._detail(long).endswith("word…") and len(errors._detail(long)) <= errors.DETAIL_CHARS_MAX
