"""Prometheus gauge of prepaid-fund usage per insured province, set whenever a fund changes
(clearing draw-down, set, top-up). Exported by whatever metrics endpoint the process runs."""

from __future__ import annotations

from prometheus_client import Gauge

from medsettle.domain.prepaid import PrepaidFund

PREPAID_USAGE_BP = Gauge("medsettle_prepaid_usage_bp", "Prepaid fund usage (drawn / funded) in basis points",
                         ["province"])


def observe(fund: PrepaidFund) -> None:
    PREPAID_USAGE_BP.labels(province=fund.insuplc_admdvs).set(fund.usage_bp)
