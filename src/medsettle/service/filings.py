"""FilingService (placeholder until its issue lands: every RPC answers UNIMPLEMENTED)."""

from __future__ import annotations

from medsettle.service.app import App
from medsettle.v1 import filing_pb2_grpc as pb_grpc


class FilingServicer(pb_grpc.FilingServiceServicer):
    full_name = "medsettle.v1.FilingService"
    add = staticmethod(pb_grpc.add_FilingServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app
