"""Reversal (冲销, 2208/2305): a settlement carrying the original's amounts negated (DOMAIN.md 6.4).

Adding a reversal's accumulator delta undoes exactly what the original added, in the original's year,
so the year's accumulators return to their value before the settlement.
"""

from __future__ import annotations

import msgspec

from medsettle.domain import reasons
from medsettle.domain.money import format_fen
from medsettle.domain.records import (
    Accumulators,
    ExplanationStep,
    FundPayment,
    LineResult,
    Settlement,
    add_accumulators,
    check_identities,
)

# Settlement amounts that a reversal negates. pool_prop_selfpay_bp is a ratio, balc_fen a balance: not negated.
NEGATED_SETTLEMENT_FIELDS = (
    "medfee_sumamt_fen", "fulamt_ownpay_amt_fen", "overlmt_selfpay_fen", "preselfpay_amt_fen", "inscp_scp_amt_fen",
    "act_pay_dedc_fen", "hifp_pay_fen", "hifob_pay_fen", "hifmi_pay_fen", "fund_pay_sumamt_fen", "psn_part_amt_fen",
    "hosp_part_amt_fen", "acct_pay_fen", "psn_cash_pay_fen", "admission_dedc_fen", "admission_eligible_fen",
)


def _negated_line(line: LineResult) -> LineResult:
    # The price ceiling and the self-pay ratio describe the catalog item; they keep their sign.
    return msgspec.structs.replace(
        line,
        det_item_fee_sumamt_fen=-line.det_item_fee_sumamt_fen,
        fulamt_ownpay_amt_fen=-line.fulamt_ownpay_amt_fen,
        overlmt_amt_fen=-line.overlmt_amt_fen,
        preselfpay_amt_fen=-line.preselfpay_amt_fen,
        inscp_scp_amt_fen=-line.inscp_scp_amt_fen,
    )


def _negated_payment(payment: FundPayment) -> FundPayment:
    # crt_payb_lmt_amt is what was left of the cap before the original payment: a level, not a flow.
    return msgspec.structs.replace(payment, fund_payamt_fen=-payment.fund_payamt_fen)


def reverse(original: Settlement, reversal_setl_id: str, setl_time_ms: int, setl_date: str) -> Settlement:
    """The reversing settlement of `original`. Refuses a reversal of a reversal, and a second reversal."""
    if original.reversed_setl_id != "":
        raise reasons.Refusal(reasons.NOT_REVERSIBLE, detail=original.setl_id)
    if original.reversal_setl_id != "":
        raise reasons.Refusal(reasons.ALREADY_REVERSED, detail=f"{original.setl_id} by {original.reversal_setl_id}")
    assert reversal_setl_id and reversal_setl_id != original.setl_id
    medfee, funds, account = map(format_fen, (original.medfee_sumamt_fen, original.fund_pay_sumamt_fen,
                                              original.acct_pay_fen))
    step = ExplanationStep(
        code="REVERSAL",
        zh=f"冲销结算{original.setl_id}: 医疗费{medfee}元, 基金{funds}元, 个人账户{account}元全部退回, 累计信息恢复",
        en=f"reversal of settlement {original.setl_id}: total {medfee} yuan, funds {funds}, personal account {account} "
        f"returned; accumulators restored",
        amount_fen=-original.medfee_sumamt_fen,
    )
    negated = {name: -getattr(original, name) for name in NEGATED_SETTLEMENT_FIELDS}
    reversal = msgspec.structs.replace(
        original,
        **negated,
        setl_id=reversal_setl_id,
        setl_time_ms=setl_time_ms,
        setl_date=setl_date,
        balc_fen=original.balc_fen + original.acct_pay_fen,  # the account gets back what it paid
        setldetail=tuple(_negated_payment(p) for p in original.setldetail),
        lines=tuple(_negated_line(line) for line in original.lines),
        limited_quantities=tuple(msgspec.structs.replace(q, cnt_e4=-q.cnt_e4) for q in original.limited_quantities),
        explanation=(step,),
        accumulator_delta=add_accumulators(Accumulators(), original.accumulator_delta, -1),
        accumulator_year=original.accumulator_year,  # restores the year the original counted in
        reversed_setl_id=original.setl_id,
        reversal_setl_id="",
    )
    check_identities(reversal)
    return reversal
