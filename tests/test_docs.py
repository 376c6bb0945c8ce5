"""Documentation that gateways rely on stays complete."""

from __future__ import annotations

from medsettle.domain import reasons
from tests.conftest import ROOT


def test_every_reason_code_is_documented():
    text = (ROOT / "docs" / "reasons.md").read_text(encoding="utf-8")
    codes = [value.code for value in vars(reasons).values() if isinstance(value, reasons.Reason)]
    assert codes and all(f"`{code}`" in text for code in codes)


def test_every_remedy_is_documented_and_every_eligibility_reason_has_one():
    text = (ROOT / "docs" / "reasons.md").read_text(encoding="utf-8")
    assert all(f"`{remedy}`" in text for remedy in reasons.REMEDY_TEXT if remedy)
    # DOMAIN.md 5: each reason a settlement cannot go through has a remedy the window can act on.
    section_5 = (reasons.PERSON_NOT_FOUND, reasons.INSU_STATUS_ABNORMAL, reasons.CARD_NOT_ACTIVATED, reasons.NO_FILING,
                 reasons.FILING_EXPIRED, reasons.FILING_OTHER_REGION, reasons.INSTITUTION_NOT_NETWORKED,
                 reasons.MED_TYPE_NOT_OPEN, reasons.CHRONIC_NOT_QUALIFIED, reasons.DISEASE_NOT_OPEN, reasons.NO_POLICY,
                 reasons.UNKNOWN_CATALOG_ITEM, reasons.AMOUNT_INCONSISTENT, reasons.NOT_CROSS_PROVINCE)
    assert [r.code for r in section_5 if r.remedy not in reasons.REMEDY_TEXT or not r.remedy] == []
