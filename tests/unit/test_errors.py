"""Refusals as google.rpc.Status: whatever a refusal carries, the status fits gRPC's trailers."""

from __future__ import annotations

from urllib.parse import quote

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
