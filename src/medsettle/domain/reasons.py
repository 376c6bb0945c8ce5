"""Stable machine-readable reasons (ErrorInfo.reason) with Chinese and English text and a remedy.

These codes are part of the contract: gateways switch on them. Never rename one; add new ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

# Remedies (what the person or the institution can do).
REMEDY_FILE_ONLINE = "FILE_ONLINE_NOW"
REMEDY_FILE_BEFORE_DISCHARGE = "FILE_BEFORE_DISCHARGE"
REMEDY_SELF_PAY_CLAIM_HOME = "SELF_PAY_AND_CLAIM_AT_INSURED_PLACE"
REMEDY_CONTACT_INSURED_PLACE = "CONTACT_INSURED_PLACE"
REMEDY_USE_EVOUCHER = "USE_E_VOUCHER"
REMEDY_FIX_REQUEST = "FIX_REQUEST"
REMEDY_SETTLE_IN_PROVINCE = "SETTLE_UNDER_PROVINCIAL_RULES"
REMEDY_RETRY_LATER = "RETRY_LATER"
REMEDY_REVIEW_CHARGES = "REVIEW_CHARGES"
REMEDY_ASK_OWN_PROVINCE = "ASK_OWN_PROVINCE"
REMEDY_ACT_AS_YOURSELF = "ACT_AS_YOURSELF"
REMEDY_PRESENT_CERTIFICATE = "PRESENT_CERTIFICATE"
REMEDY_SLOW_DOWN = "SLOW_DOWN"
REMEDY_NAME_INSURED_PLACE = "NAME_INSURED_PLACE"
REMEDY_ASK_EVERY_SHARD = "ASK_EVERY_SHARD"
REMEDY_NONE = ""

REMEDY_TEXT = {
    REMEDY_FILE_ONLINE: ("请通过国家医保服务平台APP立即在线备案", "file online now in the national medical insurance app"),
    REMEDY_FILE_BEFORE_DISCHARGE: ("可在出院结算前补办备案", "file before discharge settlement; the stay then settles directly"),
    REMEDY_SELF_PAY_CLAIM_HOME: ("可先自费结算，回参保地手工报销", "settle as self-pay and claim at the insured place"),
    REMEDY_CONTACT_INSURED_PLACE: ("请联系参保地医保经办机构", "contact the insurance agency of the insured place"),
    REMEDY_USE_EVOUCHER: ("请使用医保电子凭证或激活社保卡", "use the e-voucher or activate the card"),
    REMEDY_FIX_REQUEST: ("请更正请求后重试", "correct the request and retry"),
    REMEDY_RETRY_LATER: ("请稍后以同一请求流水号重试，仍失败请联系平台运维", "retry later with the same request_id; if it fails again, contact the platform's operators"),
    REMEDY_REVIEW_CHARGES: ("请按就医地审核规则核对费用明细后重新结算；确属合理诊疗的，请联系就医地医保经办机构",
                            "check the fee lines against the place of treatment's audit rule and settle again; if the "
                            "care was right, contact the insurance agency of the place of treatment"),
    REMEDY_ASK_OWN_PROVINCE: ("请由有权限的省级平台办理", "ask the provincial platform that owns it"),
    REMEDY_SETTLE_IN_PROVINCE: ("请通过省内异地就医或本地结算渠道结算", "settle through the province's own (intra-province) channel"),
    REMEDY_ACT_AS_YOURSELF: ("请仅以本机构或本省身份办理本方业务，查询参保人须出示其医保凭证",
                             "act only for your own institution or province; look a person up by their credential"),
    REMEDY_PRESENT_CERTIFICATE: ("请使用平台CA签发的客户端证书调用", "call with a client certificate issued by the platform's CA"),
    REMEDY_SLOW_DOWN: ("查询过于频繁，请稍后重试", "too many look-ups: retry after a short wait"),
    REMEDY_NAME_INSURED_PLACE: ("请先按凭证查询参保地（FindInsuredPlace，或取1101应答中的参保地），再在元数据 x-insuplc-admdvs 中注明后重试",
                                "look the insured place up (FindInsuredPlace by the person's credential, or 1101's "
                                "answer) and retry with it in the x-insuplc-admdvs metadata"),
    REMEDY_ASK_EVERY_SHARD: ("请用 medsettle cluster 工具逐一发往每个分片（元数据 x-medsettle-shard）并汇总应答",
                             "send it to every shard (the x-medsettle-shard metadata), as the `medsettle cluster` "
                             "tools do, and combine the answers"),
    REMEDY_NONE: ("", ""),
}


class Reason(msgspec.Struct, frozen=True):
    code: str
    zh: str
    en: str
    remedy: str = REMEDY_NONE


def _r(code: str, zh: str, en: str, remedy: str = REMEDY_NONE) -> Reason:
    return Reason(code, zh, en, remedy)


# Eligibility (DOMAIN.md 5).
PERSON_NOT_FOUND = _r("PERSON_NOT_FOUND", "未查询到参保人员信息", "person not found", REMEDY_CONTACT_INSURED_PLACE)
INSU_STATUS_ABNORMAL = _r(
    "INSU_STATUS_ABNORMAL", "参保状态异常(暂停或中断缴费)", "insurance status not normal (suspended or contributions interrupted)",
    REMEDY_SELF_PAY_CLAIM_HOME)
INSUTYPE_NOT_HELD = _r("INSUTYPE_NOT_HELD", "参保人未参加该险种", "person does not hold this insurance type",
                       REMEDY_FIX_REQUEST)
CARD_NOT_ACTIVATED = _r("CARD_NOT_ACTIVATED", "社会保障卡未激活(可使用医保电子凭证)",
                        "card not activated (an e-voucher still works)", REMEDY_USE_EVOUCHER)
NO_FILING = _r("NO_FILING", "未办理该就医地的异地就医备案", "no filing for this region and date", REMEDY_FILE_ONLINE)
FILING_EXPIRED = _r("FILING_EXPIRED", "异地就医备案已过期", "filing expired", REMEDY_FILE_ONLINE)
FILING_OTHER_REGION = _r("FILING_OTHER_REGION", "备案就医地与本次就医地不符", "filing is for another region",
                         REMEDY_FILE_ONLINE)
FILING_OTHER_INSTITUTION = _r("FILING_OTHER_INSTITUTION", "转诊备案的转入机构不是本机构",
                              "referral filing names another receiving institution", REMEDY_FILE_ONLINE)
INSTITUTION_NOT_FOUND = _r("INSTITUTION_NOT_FOUND", "未查询到定点医药机构", "institution not found", REMEDY_FIX_REQUEST)
INSTITUTION_NOT_NETWORKED = _r("INSTITUTION_NOT_NETWORKED", "该定点医药机构未开通此类别的跨省直接结算",
                               "institution not networked for this medical type", REMEDY_SELF_PAY_CLAIM_HOME)
MED_TYPE_NOT_OPEN = _r("MED_TYPE_NOT_OPEN", "参保地未开通该医疗类别的跨省直接结算",
                       "insured region has not opened this medical type cross-province", REMEDY_SELF_PAY_CLAIM_HOME)
CHRONIC_NOT_QUALIFIED = _r("CHRONIC_NOT_QUALIFIED", "未办理该门诊慢特病待遇认定", "chronic disease not qualified",
                           REMEDY_CONTACT_INSURED_PLACE)
DISEASE_NOT_OPEN = _r("DISEASE_NOT_OPEN", "该门诊慢特病病种未开通跨省直接结算", "disease not open cross-province",
                      REMEDY_SELF_PAY_CLAIM_HOME)
NO_POLICY = _r("NO_POLICY", "参保地无有效的待遇政策", "no policy in force", REMEDY_CONTACT_INSURED_PLACE)
NOT_CROSS_PROVINCE = _r("NOT_CROSS_PROVINCE", "非跨省异地就医，请按省内规定结算", "not cross-province; settle under provincial rules",
                        REMEDY_SETTLE_IN_PROVINCE)

# Fee lines and totals.
UNKNOWN_CATALOG_ITEM = _r("UNKNOWN_CATALOG_ITEM", "就医地目录中无此项目或项目在费用发生日无效",
                          "unknown catalog item at the fee date", REMEDY_FIX_REQUEST)
AMOUNT_INCONSISTENT = _r("AMOUNT_INCONSISTENT", "明细金额与数量×单价不符", "amount is not cnt × pric to the fen",
                         REMEDY_FIX_REQUEST)
TOTAL_INCONSISTENT = _r("TOTAL_INCONSISTENT", "医疗费总额与明细合计不符", "medfee_sumamt is not the sum of the lines",
                        REMEDY_FIX_REQUEST)

# Requests and flows.
INVALID_ARGUMENT = _r("INVALID_ARGUMENT", "请求参数不合法", "invalid argument", REMEDY_FIX_REQUEST)
REQUEST_ID_REUSED = _r("REQUEST_ID_REUSED", "请求流水号已用于不同的请求内容", "request_id already used with a different payload",
                       REMEDY_FIX_REQUEST)
STAY_NOT_OPEN = _r("STAY_NOT_OPEN", "住院就诊不存在或已出院", "stay not found or not open", REMEDY_FIX_REQUEST)
NOTHING_TO_SETTLE = _r("NOTHING_TO_SETTLE", "没有未结算的费用明细", "no unsettled fee lines", REMEDY_FIX_REQUEST)
SETTLEMENT_NOT_FOUND = _r("SETTLEMENT_NOT_FOUND", "结算记录不存在", "settlement not found", REMEDY_FIX_REQUEST)
ALREADY_REVERSED = _r("ALREADY_REVERSED", "该结算已冲销，不能重复冲销", "settlement already reversed", REMEDY_NONE)
NOT_REVERSIBLE = _r("NOT_REVERSIBLE", "冲销记录不能再被冲销", "a reversal cannot be reversed", REMEDY_NONE)
REQUEST_NOT_FOUND = _r("REQUEST_NOT_FOUND", "原交易流水号不存在", "original request_id not found", REMEDY_NONE)
FILING_NOT_FOUND = _r("FILING_NOT_FOUND", "备案记录不存在", "filing not found", REMEDY_FIX_REQUEST)
FILING_LOCKED = _r("FILING_LOCKED", "长期备案在锁定期内不得变更或撤销", "long-term filing is locked against change", REMEDY_NONE)
FILING_CONFLICT = _r("FILING_CONFLICT", "已有有效的长期备案", "an active long-term filing exists", REMEDY_NONE)
QUALIFICATION_NOT_FOUND = _r("QUALIFICATION_NOT_FOUND", "慢特病认定记录不存在", "chronic qualification not found",
                             REMEDY_FIX_REQUEST)
LINES_LIMIT = _r("LINES_LIMIT", "费用明细超出上限", "too many fee lines", REMEDY_FIX_REQUEST)
VERSION_OVERLAP = _r("VERSION_OVERLAP", "生效期与已有版本重叠", "effective period overlaps an existing version", REMEDY_FIX_REQUEST)
VERSION_NOT_FOUND = _r("VERSION_NOT_FOUND", "不存在该生效日期的版本", "no version from that begndate is held",
                       REMEDY_FIX_REQUEST)
VERSION_IN_EFFECT = _r("VERSION_IN_EFFECT", "该版本已生效，不能撤回；请推送自以后某日起生效的新版本",
                       "the version has taken effect and cannot be withdrawn; push a version from a later date",
                       REMEDY_FIX_REQUEST)
NATIONAL_RULE_VIOLATED = _r("NATIONAL_RULE_VIOLATED", "违反国家统一规定", "violates a national rule", REMEDY_FIX_REQUEST)
UNKNOWN_REGION = _r("UNKNOWN_REGION", "行政区划代码不存在", "unknown region code", REMEDY_FIX_REQUEST)
QUALIFICATION_CONFLICT = _r("QUALIFICATION_CONFLICT", "该病种已有生效期重叠的慢特病认定",
                            "an active chronic qualification for this disease overlaps", REMEDY_NONE)
MONTH_NOT_CLOSABLE = _r("MONTH_NOT_CLOSABLE", "只能关闭已结束的清算月份", "only a month that has ended can be closed",
                        REMEDY_NONE)
PREPAID_FUND_NOT_FOUND = _r("PREPAID_FUND_NOT_FOUND", "该参保省份该年度未设置预付金", "no prepaid fund for this province and year",
                            REMEDY_FIX_REQUEST)
NO_PREVIOUS_YEAR_PAYMENTS = _r("NO_PREVIOUS_YEAR_PAYMENTS", "上一年度无跨省结算支付，无法按月数测算预付金",
                               "no cross-province payments in the previous year to size the fund from", REMEDY_FIX_REQUEST)

# Management at the place of treatment (就医地管理, DOMAIN.md 9).
AUDIT_RULE_BLOCKED = _r("AUDIT_RULE_BLOCKED", "费用明细触发就医地审核规则，不予直接结算", "an audit rule blocks these fee lines",
                        REMEDY_REVIEW_CHARGES)
FLAG_NOT_FOUND = _r("FLAG_NOT_FOUND", "疑点记录不存在或无权查看", "flag not found (or not visible to the caller)",
                    REMEDY_FIX_REQUEST)
FLAG_ALREADY_DECIDED = _r("FLAG_ALREADY_DECIDED", "该疑点已审核完结", "the flag has already been decided", REMEDY_NONE)
DEDUCTION_TOO_LARGE = _r("DEDUCTION_TOO_LARGE", "拒付金额超过该结算可拒付的基金支付金额",
                         "deduction exceeds what the settlement's funds paid and is not yet deducted", REMEDY_FIX_REQUEST)
SUPERVISION_NOT_PERMITTED = _r("SUPERVISION_NOT_PERMITTED", "调用方无权办理该监管事项",
                               "the caller may not do this for another province's rules, flags or statistics",
                               REMEDY_ASK_OWN_PROVINCE)
# Who is calling (service/authorization.py).
CALLER_NOT_IDENTIFIED = _r("CALLER_NOT_IDENTIFIED", "无法识别调用方身份", "the caller is not identified",
                           REMEDY_PRESENT_CERTIFICATE)
CALLER_NOT_ALLOWED = _r("CALLER_NOT_ALLOWED", "调用方无权办理此业务", "the caller may not make this request",
                        REMEDY_ACT_AS_YOURSELF)
RATE_LIMITED = _r("RATE_LIMITED", "人员信息查询超出频率限制", "too many person look-ups by this institution",
                  REMEDY_SLOW_DOWN)
CREDENTIAL_IN_USE = _r("CREDENTIAL_IN_USE", "该证件已属于另一参保人", "the credential already belongs to another person",
                       REMEDY_FIX_REQUEST)

# Shards by insured province (service/placement.py): a call that cannot be routed to the shard that owns it.
INSURED_PLACE_REQUIRED = _r("INSURED_PLACE_REQUIRED", "该业务涉及参保人，须在元数据 x-insuplc-admdvs 中注明其参保地",
                            "this call concerns an insured person: name their insured place in the x-insuplc-admdvs "
                            "metadata", REMEDY_NAME_INSURED_PLACE)
INSURED_PLACE_UNKNOWN = _r("INSURED_PLACE_UNKNOWN", "元数据 x-insuplc-admdvs 不是已知的参保地行政区划代码",
                           "the x-insuplc-admdvs metadata names no known insured place (a 6-digit admdvs)",
                           REMEDY_FIX_REQUEST)
SHARD_REQUIRED = _r("SHARD_REQUIRED", "该业务须发往每个分片并汇总，请求未注明分片",
                    "this call is answered by every shard for its own part: name the shard (x-medsettle-shard)",
                    REMEDY_ASK_EVERY_SHARD)
WRONG_SHARD = _r("WRONG_SHARD", "请求到达了不负责该参保地的分片（代理路由与分片表不一致），本次请求未生效",
                 "the call reached a shard that does not own it (the proxy's routes and the shard map disagree): "
                 "nothing was done", REMEDY_RETRY_LATER)
PERSON_SPANS_SHARDS = _r("PERSON_SPANS_SHARDS", "参保人的险种分属不同分片的参保地，无法整体归属一个分片",
                         "the person's insurances lie in insured places of different shards: a person is kept whole "
                         "on one shard", REMEDY_CONTACT_INSURED_PLACE)

# Not refusals of the rules: the request could not be served. Nothing was written in any of these cases.
MALFORMED_REQUEST = _r("MALFORMED_REQUEST", "请求报文无法按该交易的消息格式解析", "the request body cannot be decoded as this "
                       "method's message (truncated, corrupted or sent to the wrong method)", REMEDY_FIX_REQUEST)
MESSAGE_TOO_LARGE = _r("MESSAGE_TOO_LARGE", "请求报文超过该交易的大小上限，请拆分后分批发送",
                       "the request is larger than this method accepts: send it in smaller batches", REMEDY_FIX_REQUEST)
STORE_FULL = _r("STORE_FULL", "平台存储空间已满，本次请求未生效，已通知运维", "the store is full: nothing was done; the "
                "operators have been alerted", REMEDY_RETRY_LATER)
SERVER_BUSY = _r("SERVER_BUSY", "平台繁忙，本次请求未受理", "the server is at its limit of calls in flight: the call "
                 "was not taken", REMEDY_RETRY_LATER)
SERVICE_UNAVAILABLE = _r("SERVICE_UNAVAILABLE", "服务暂不可用（正在停止或重启），本次请求未生效",
                         "service unavailable (stopping or restarting): nothing was done", REMEDY_RETRY_LATER)
# PostgreSQL backend (store/postgres.py): the database could not be reached (its primary changing over), before any
# COMMIT; and a COMMIT whose outcome the platform cannot know (also: an LMDB worker's writer process that
# ended with the request in flight). Both are retried with the same request_id.
STORE_UNAVAILABLE = _r("STORE_UNAVAILABLE", "平台数据库暂不可达（可能正在主备切换），本次请求未生效",
                       "the store's database cannot be reached now (its primary may be changing over): nothing was "
                       "done", REMEDY_RETRY_LATER)
OUTCOME_UNKNOWN = _r("OUTCOME_UNKNOWN", "提交时与数据库（或写入进程）的连接中断，本次请求可能已生效；请以同一请求流水号重试，将返回原结果或只办理一次",
                     "the connection to the database (or the writer process) broke while committing: the request may "
                     "have been done; retry with the same request_id: you get the original answer, or it is done once",
                     REMEDY_RETRY_LATER)

# A defect met while serving. Nothing was written (the writer's transaction aborts).
INTERNAL_ERROR = _r("INTERNAL_ERROR", "平台内部错误，本次请求未生效，已记录", "internal error: nothing was done; it has been logged",
                    REMEDY_RETRY_LATER)


SHOWN_CHARS_MAX = 40  # a value quoted in a refusal's detail; the whole detail must fit gRPC's trailers


def shown(value: str) -> str:
    """A value quoted for a refusal's detail: whole when it is short; a long one is shortened visibly, with its
    length, so the detail never ends in the middle of a value."""
    if len(value) <= SHOWN_CHARS_MAX:
        return repr(value)
    return f"{value[:SHOWN_CHARS_MAX]!r}… ({len(value)} characters)"


class Refusal(Exception):
    """A request the rules refuse. Carries one or more reasons and what they point at.

    `field` names the request field (dotted path) and `feedetl_sn` the fee line, when one applies.
    """

    def __init__(
        self,
        reason: Reason,
        *,
        field: str = "",
        feedetl_sn: str = "",
        detail: str = "",
        more: tuple[Refusal, ...] = (),
    ) -> None:
        self.reason = reason
        self.field = field
        self.feedetl_sn = feedetl_sn
        self.detail = detail
        self.more = more
        super().__init__(f"{reason.code}: {reason.en}" + (f" ({detail})" if detail else ""))

    @property
    def all(self) -> tuple[Refusal, ...]:
        return (self, *self.more)

    @classmethod
    def invalid(cls, field: str, detail: str, reason: Reason | None = None) -> Refusal:
        """A malformed field: INVALID_ARGUMENT (or the more precise `reason`), naming the field."""
        return cls(reason or INVALID_ARGUMENT, field=field, detail=detail)

    @classmethod
    def of_all(cls, refusals: Sequence[Refusal]) -> Refusal:
        """Several refusals as one, so the caller can fix everything at once: the first leads (its reason decides
        the status), the rest follow."""
        first, *rest = refusals
        return cls(first.reason, field=first.field, feedetl_sn=first.feedetl_sn, detail=first.detail,
                   more=tuple(rest))



BY_CODE = {value.code: value for value in list(globals().values()) if isinstance(value, Reason)}
