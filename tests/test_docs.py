"""Documentation that gateways rely on stays complete."""

from __future__ import annotations

from medsettle.domain import reasons
from tests.conftest import ROOT


def test_every_reason_code_is_documented():
    text = (ROOT / "docs" / "reasons.md").read_text(encoding="utf-8")
    codes = [value.code for value in vars(reasons).values() if isinstance(value, reasons.Reason)]
    assert codes and all(f"`{code}`" in text for code in codes)
