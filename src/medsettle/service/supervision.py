"""SupervisionService (就医地管理): audit rules, flags for joint review, their review, supervision statistics.

Thin: who may see, raise and decide is domain.flags; what a decision writes is store.supervision_book, in the
group-commit writer like every mutating call (idempotent by request id, audited).
"""

from __future__ import annotations

import asyncio
import re

from medsettle.domain import audit_rules, clearing, dates, flags, reasons
from medsettle.domain import supervision_stats as stats
from medsettle.domain.reasons import Refusal
from medsettle.service import convert, idempotency, identity
from medsettle.service import supervision_convert as sc
from medsettle.service.app import App
from medsettle.service.reference_data import add_versions
from medsettle.service.rpc import rpc
from medsettle.store import supervision_book
from medsettle.store.view import FLAG_INDEX_INSTITUTION, FLAG_INDEX_PROVINCE, View, WriteView
from medsettle.v1 import supervision_pb2 as pb
from medsettle.v1 import supervision_pb2_grpc as pb_grpc

RULES_PER_PUSH_MAX = 2_000
FLAGS_PAGE_DEFAULT, FLAGS_PAGE_MAX = 100, 1_000
FLAGS_PERIOD_DAYS_MAX = 366
FLAGS_PERIOD_DAYS_DEFAULT = 31
FLAGS_SCANNED_PER_PAGE_MAX = 20_000  # a page stops after this many flags looked at, and says where to go on
STATS_DAYS_MAX = 92
STATS_ROWS_MAX = 2_000_000
INSTITUTIONS_LISTED_DEFAULT, INSTITUTIONS_LISTED_MAX = 50, 1_000
_FLAG_ID = re.compile(r"G[0-9]{20}")


def _days(begndate: str, enddate: str, today: str, days_max: int, days_default: int) -> list[str]:
    end = convert.date(enddate, "enddate", allow_empty=True) or today
    begin = convert.date(begndate, "begndate", allow_empty=True) or dates.add_days(end, 1 - days_default)
    if end < begin:
        raise convert.invalid("enddate", "enddate before begndate")
    if dates.days_between(begin, end) >= days_max:
        raise convert.invalid("enddate", f"a period of at most {days_max} days")
    return [dates.add_days(begin, n) for n in range(dates.days_between(begin, end) + 1)]


def _flag_scope(viewer: flags.Viewer, treated: str, insured: str, fixmedins_code: str) -> tuple[str, ...]:
    """The narrowest index that holds every flag the viewer may see under these filters."""
    if viewer.kind == flags.INSTITUTION:
        return (FLAG_INDEX_INSTITUTION, viewer.id)
    if fixmedins_code:
        return (FLAG_INDEX_INSTITUTION, fixmedins_code)
    if treated or insured:
        return (FLAG_INDEX_PROVINCE, treated or insured)
    if viewer.kind == flags.PROVINCE:
        return (FLAG_INDEX_PROVINCE, viewer.id)
    return ()  # the national platform, no filter: every flag


class SupervisionServicer(pb_grpc.SupervisionServiceServicer):
    full_name = "medsettle.v1.SupervisionService"
    add = staticmethod(pb_grpc.add_SupervisionServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app

    # -- audit rules -------------------------------------------------------------------------------------------

    @rpc
    async def PutAuditRules(self, request: pb.PutAuditRulesRequest, context) -> pb.PutAuditRulesResponse:
        who = identity.current().uri
        viewer = sc.viewer_of(identity.current())
        request_once = idempotency.Once(self.app, who, request, pb.PutAuditRulesResponse)
        if (held := request_once.held()) is not None:
            return held
        if not request.rules:
            raise convert.invalid("rules", "nothing to write")
        if len(request.rules) > RULES_PER_PUSH_MAX:
            raise Refusal(reasons.LINES_LIMIT, field="rules", detail=f"at most {RULES_PER_PUSH_MAX} per push")
        problems, rules = [], []
        for index, each in enumerate(request.rules):
            try:
                rule = sc.rule(each, f"rules[{index}]")
                if not flags.may_push_rules(viewer, rule.admdvs):
                    raise Refusal(reasons.SUPERVISION_NOT_PERMITTED, field=f"rules[{index}].admdvs",
                                  detail=f"{viewer.kind}:{viewer.id} may not push rules of {rule.admdvs}")
                rules.append(rule)
            except Refusal as refusal:
                problems.extend(refusal.all)
        if problems:
            raise Refusal.of_all(problems)
        seen: dict[tuple[str, str, str, str], int] = {}
        for index, rule in enumerate(rules):
            version = (rule.admdvs, rule.role, rule.rule_id, rule.begndate)
            if version in seen:
                raise convert.invalid(f"rules[{index}].begndate", f"the same version as rules[{seen[version]}]")
            seen[version] = index

        def effect(view: WriteView):
            written, _ = add_versions(
                sorted(enumerate(rules), key=lambda pair: pair[1].begndate),
                lambda r: view.audit_rule_versions(r.admdvs, r.role, r.rule_id),
                view.put_audit_rule, "rules")
            for admdvs, role in sorted({(r.admdvs, r.role) for r in rules}):
                if len({r.rule_id for r in view.audit_rules(admdvs, role) if r.active}) > audit_rules.RULES_PER_PROVINCE_MAX:
                    raise convert.invalid("rules", f"{admdvs} role {role} would hold more than "
                                                   f"{audit_rules.RULES_PER_PROVINCE_MAX} rules")
            ids = sorted({f"{r.admdvs}/{r.role}/{r.rule_id}@{r.begndate}:{r.severity}" for r in rules})
            self.app.audit(view, who, "PutAuditRules", f"rules={len(rules)} written={written} "
                                                       f"{','.join(ids[:10])}", request.request_id)
            return pb.PutAuditRulesResponse(rules_written=written), {}

        return await request_once.run(effect)

    @rpc
    async def ListAuditRules(self, request: pb.ListAuditRulesRequest, context) -> pb.ListAuditRulesResponse:
        admdvs = sc.province(request.admdvs, "admdvs")
        role = convert.code(request.role, "role", audit_rules.ROLES, allow_empty=True)
        date = convert.date(request.date, "date", allow_empty=True) or self.app.clock.today()
        found = []
        with self.app.store.read() as view:
            for each_role in (role,) if role else sorted(audit_rules.ROLES):
                versions = view.audit_rules(admdvs, each_role)
                found.extend(versions if request.history else audit_rules.in_force(versions, date))
        return pb.ListAuditRulesResponse(rules=[sc.rule_pb(r) for r in found])

    # -- flags -------------------------------------------------------------------------------------------------

    @rpc
    async def ListFlags(self, request: pb.ListFlagsRequest, context) -> pb.ListFlagsResponse:
        viewer = sc.viewer_of(identity.current())
        treated = sc.province(request.mdtrtarea_admvs, "mdtrtarea_admvs", allow_empty=True)
        insured = sc.province(request.insuplc_admdvs, "insuplc_admdvs", allow_empty=True)
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code", allow_empty=True)
        rule_id = convert.code(request.rule_id, "rule_id", allow_empty=True)
        status = convert.code(request.status, "status", flags.STATUSES, allow_empty=True)
        days = _days(request.begndate, request.enddate, self.app.clock.today(), FLAGS_PERIOD_DAYS_MAX,
                     FLAGS_PERIOD_DAYS_DEFAULT)
        limit = request.limit or FLAGS_PAGE_DEFAULT
        if not 0 < limit <= FLAGS_PAGE_MAX:
            raise convert.invalid("limit", f"1..{FLAGS_PAGE_MAX}")
        if request.page_token and not _FLAG_ID.fullmatch(request.page_token):
            raise convert.invalid("page_token", "the next_page_token of an earlier answer")
        scope = _flag_scope(viewer, treated, insured, fixmedins_code)

        def wanted(flag: flags.Flag) -> bool:
            return (flags.may_see(viewer, flag) and (not treated or flag.mdtrtarea_admvs == treated)
                    and (not insured or flag.insuplc_admdvs == insured)
                    and (not fixmedins_code or flag.fixmedins_code == fixmedins_code)
                    and (not rule_id or flag.rule_id == rule_id) and (not status or flag.status == status))

        def read() -> pb.ListFlagsResponse:
            found, after, scanned = [], request.page_token, 0
            with self.app.store.read() as view:
                while len(found) < limit and scanned < FLAGS_SCANNED_PER_PAGE_MAX:
                    ids = view.flag_ids(scope, days[0], days[-1], after, min(1_000, FLAGS_SCANNED_PER_PAGE_MAX))
                    if not ids:
                        return pb.ListFlagsResponse(flags=found)
                    for flag_id in ids:
                        scanned += 1
                        after = flag_id
                        flag = view.flag(flag_id)
                        assert flag is not None, flag_id
                        if wanted(flag):
                            found.append(sc.flag_pb(flag))
                            if len(found) >= limit:
                                break
            return pb.ListFlagsResponse(flags=found, next_page_token=after)

        return await asyncio.to_thread(read)

    def _visible_flag(self, view: View, viewer: flags.Viewer, flag_id: str) -> flags.Flag:
        if not _FLAG_ID.fullmatch(flag_id):
            raise convert.invalid("flag_id", "a flag_id: G + 20 digits")
        flag = view.flag(flag_id)
        if flag is None or not flags.may_see(viewer, flag):  # another province's flag does not exist for the caller
            raise Refusal(reasons.FLAG_NOT_FOUND, field="flag_id", detail=flag_id)
        return flag

    @rpc
    async def GetFlag(self, request: pb.GetFlagRequest, context) -> pb.GetFlagResponse:
        viewer = sc.viewer_of(identity.current())
        with self.app.store.read() as view:
            return pb.GetFlagResponse(flag=sc.flag_pb(self._visible_flag(view, viewer, request.flag_id)))

    @rpc
    async def RaiseFlag(self, request: pb.RaiseFlagRequest, context) -> pb.RaiseFlagResponse:
        who = identity.current().uri
        viewer = sc.viewer_of(identity.current())
        request_once = idempotency.Once(self.app, who, request, pb.RaiseFlagResponse)
        if (held := request_once.held()) is not None:
            return held
        setl_id = convert.code(request.setl_id, "setl_id")
        note = convert.checked_name(request.note, "note", flags.NOTE_CHARS_MAX)
        if not note:
            raise convert.invalid("note", "say what the place of treatment is asked to check")
        today, now_ms = self.app.clock.today(), self.app.clock.now_ms()

        def effect(view: WriteView):
            setl = view.settlement(setl_id)
            if setl is None:
                raise Refusal(reasons.SETTLEMENT_NOT_FOUND, field="setl_id")
            insured, treated = clearing.pair_of(setl)
            if not flags.may_raise(viewer, insured):
                raise Refusal(reasons.SUPERVISION_NOT_PERMITTED, field="setl_id",
                              detail=f"only the insured place {insured} raises a 协查请求 on this settlement")
            if setl.reversed_setl_id:
                raise convert.invalid("setl_id", "a reversal is not care: name the settlement it reverses")
            flag = supervision_book.new_flag(view, setl, source=flags.SOURCE_REQUEST, rule=None, hit=None,
                                             raised_by=who, when_ms=now_ms, date=today, zh=note, en=note)
            view.add_stats(today, treated, insured, setl.fixmedins_code, stats.of_flags((flag.rule_id,)))
            self.app.audit(view, who, "RaiseFlag", f"flag {flag.flag_id} on {setl_id}", request.request_id)
            return pb.RaiseFlagResponse(flag=sc.flag_pb(flag)), {}

        return await request_once.run(effect)

    @rpc
    async def ReviewFlag(self, request: pb.ReviewFlagRequest, context) -> pb.ReviewFlagResponse:
        who = identity.current().uri
        viewer = sc.viewer_of(identity.current())
        request_once = idempotency.Once(self.app, who, request, pb.ReviewFlagResponse)
        if (held := request_once.held()) is not None:
            return held
        decision = convert.code(request.decision, "decision", flags.DECISIONS)
        deduct_fen = convert.amount(request.deduct, "deduct")
        note = convert.checked_name(request.note, "note", flags.NOTE_CHARS_MAX)
        today, now_ms = self.app.clock.today(), self.app.clock.now_ms()

        def effect(view: WriteView):
            flag = self._visible_flag(view, viewer, request.flag_id)
            setl = view.settlement(flag.setl_id)
            assert setl is not None, flag.setl_id
            decided = flags.review(flag, viewer, decision, deduct_fen,
                                   deducted_elsewhere_fen=supervision_book.deducted_elsewhere_fen(view, flag),
                                   settlement_reversed=bool(setl.reversal_setl_id), when_ms=now_ms, date=today,
                                   note=note)
            supervision_book.record_decision(view, decided)
            self.app.audit(view, who, "ReviewFlag", f"flag {flag.flag_id} {decided.status} deduct {deduct_fen} fen",
                           request.request_id)
            return pb.ReviewFlagResponse(flag=sc.flag_pb(decided)), {}

        return await request_once.run(effect)

    # -- statistics --------------------------------------------------------------------------------------------

    @rpc
    async def GetSupervisionStats(self, request: pb.GetSupervisionStatsRequest,
                                  context) -> pb.GetSupervisionStatsResponse:
        viewer = sc.viewer_of(identity.current())
        days = _days(request.begndate, request.enddate, self.app.clock.today(), STATS_DAYS_MAX, 1)
        treated = sc.province(request.mdtrtarea_admvs, "mdtrtarea_admvs", allow_empty=True)
        insured = sc.province(request.insuplc_admdvs, "insuplc_admdvs", allow_empty=True)
        fixmedins_code = convert.code(request.fixmedins_code, "fixmedins_code", allow_empty=True)
        listed = request.institutions_limit or INSTITUTIONS_LISTED_DEFAULT
        if not 0 < listed <= INSTITUTIONS_LISTED_MAX:
            raise convert.invalid("institutions_limit", f"1..{INSTITUTIONS_LISTED_MAX}")

        def read() -> pb.GetSupervisionStatsResponse:
            by_day: dict[str, stats.DayStats] = {}
            by_pair: dict[tuple[str, str], stats.DayStats] = {}
            by_institution: dict[tuple[str, str], stats.DayStats] = {}
            with self.app.store.read() as view:
                for day in days:
                    for (t, i, code), row in view.stats_rows(day, STATS_ROWS_MAX):
                        if ((treated and t != treated) or (insured and i != insured)
                                or (fixmedins_code and code != fixmedins_code)
                                or not flags.may_see_row(viewer, t, i, code)):
                            continue
                        by_day[day] = stats.add(by_day.get(day, stats.DayStats()), row)
                        by_pair[(t, i)] = stats.add(by_pair.get((t, i), stats.DayStats()), row)
                        by_institution[(code, t)] = stats.add(by_institution.get((code, t), stats.DayStats()), row)
            return sc.stats_response(by_day, by_pair, by_institution, listed)

        return await asyncio.to_thread(read)
