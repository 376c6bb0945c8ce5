"""Every servicer the server registers, in one list (reflection and health list the same names)."""

from __future__ import annotations

import grpc

from medsettle.service.app import App
from medsettle.service.clearing import ClearingServicer
from medsettle.service.filings import FilingServicer
from medsettle.service.persons import PersonServicer
from medsettle.service.reference_data import ReferenceDataServicer
from medsettle.service.settlements import SettlementServicer
from medsettle.service.supervision import SupervisionServicer

SERVICERS = (PersonServicer, FilingServicer, SettlementServicer, ReferenceDataServicer, ClearingServicer,
             SupervisionServicer)


def add_all(server: grpc.aio.Server, app: App) -> list[str]:
    for servicer in SERVICERS:
        servicer.add(servicer(app), server)
    return [servicer.full_name for servicer in SERVICERS]
