"""SettlementService (placeholder until its issue lands: every RPC answers UNIMPLEMENTED)."""

from __future__ import annotations

from medsettle.service.app import App
from medsettle.v1 import settlement_pb2_grpc as pb_grpc


class SettlementServicer(pb_grpc.SettlementServiceServicer):
    full_name = "medsettle.v1.SettlementService"
    add = staticmethod(pb_grpc.add_SettlementServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app
