"""Counting refused settlements for supervision, without a refusal changing anything else.

A refusal writes nothing the rules read (DOMAIN.md, docs/reasons.md): no settlement, no request record, no
accumulator. To know the direct settlement rate and why settlements are refused, a refused SettleOutpatient or
SettleInpatient is counted by a best-effort job handed to the group-commit writer after the refusal is decided: it
writes only the statistics keyspaces (`refusal_log`, one row per day, institution and request id, so a retried
refusal counts once; and the day's `stats` row). The caller's answer never waits for it; if the process stops before
the job commits, that count is lost, and nothing else is. Not counted: a malformed request (INVALID_ARGUMENT, or an
institution code or request id that is not a code: no settlement was attempted), a reused request id (not a new
attempt), and internal errors.
"""

from __future__ import annotations

import concurrent.futures

from medsettle.domain import reasons, region
from medsettle.domain import supervision_stats as stats
from medsettle.domain.reasons import Refusal
from medsettle.service import convert, logs
from medsettle.service.app import App
from medsettle.store.rows import RefusalEntry
from medsettle.store.view import WriteView

NOT_COUNTED = frozenset({reasons.INVALID_ARGUMENT.code, reasons.REQUEST_ID_REUSED.code, reasons.INTERNAL_ERROR.code})


def _province_of(admdvs: str | None) -> str:
    return region.province_of(admdvs) if admdvs and region.is_well_formed(admdvs) else stats.UNKNOWN_REGION


def count(app: App, method: str, fixmedins_code: str, request_id: str, refusal: Refusal, *, psn_no: str = "",
          cert: tuple[str, str] = ("", ""), mdtrt_id: str = "") -> None:
    """Hand the count of one refused settlement to the writer; returns at once. The person is named by psn_no, by
    credential (type, number) or by the stay."""
    codes = tuple(each.reason.code for each in refusal.all)
    if codes[0] in NOT_COUNTED or not convert.is_code(fixmedins_code) or not convert.is_code(request_id):
        return
    today, now_ms = app.clock.today(), app.clock.now_ms()

    def job(view: WriteView) -> None:
        if view.refusal_entry(today, fixmedins_code, request_id) is not None:
            return  # a retried refusal is one failed settlement
        institution = view.institution(fixmedins_code)
        person_no = psn_no if convert.is_code(psn_no) else ""
        if not person_no and convert.is_code(cert[0]) and convert.is_code(cert[1]):
            person_no = view.psn_no_by_cert(*cert) or ""
        if not person_no and convert.is_code(mdtrt_id):
            stay = view.stay(mdtrt_id)
            person_no = stay.psn_no if stay is not None else ""
        person = view.person(person_no) if person_no else None
        insured = _province_of(person.insu_lines[0].insuplc_admdvs if person and person.insu_lines else None)
        treated = _province_of(institution.admdvs if institution else None)
        view.put_refusal_entry(RefusalEntry(date=today, fixmedins_code=fixmedins_code, request_id=request_id,
                                            method=method, reasons=codes, mdtrtarea_admvs=treated,
                                            insuplc_admdvs=insured, when_ms=now_ms))
        view.add_stats(today, treated, insured, fixmedins_code, stats.of_refusal(codes))

    def done(future: concurrent.futures.Future) -> None:
        if future.exception() is not None:
            logs.event("refusal_count_lost", method=method, error=repr(future.exception()))

    app.writer.submit(job).add_done_callback(done)
