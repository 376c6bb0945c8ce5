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


def test_every_link_and_named_file_of_the_readme_and_docs_resolves_in_the_repository():
    """A clone has everything its documentation points at: no link leaves the repository (../shared/...)."""
    import re

    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if target.startswith(("http://", "https://")):
                continue
            resolved = (page.parent / target).resolve()
            if not resolved.exists() or ROOT.resolve() not in resolved.parents:
                broken.append(f"{page.name}: {target}")
        for named in re.findall(r"`((?:docs|bench|deploy|examples|protos|scripts|src|tests)/[\w./-]+)`", text):
            if not (ROOT / named).exists():
                broken.append(f"{page.name}: `{named}`")
    assert broken == []
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
