"""PersonService (placeholder until its issue lands: every RPC answers UNIMPLEMENTED)."""

from __future__ import annotations

from medsettle.service.app import App
from medsettle.v1 import person_pb2_grpc as pb_grpc


class PersonServicer(pb_grpc.PersonServiceServicer):
    full_name = "medsettle.v1.PersonService"
    add = staticmethod(pb_grpc.add_PersonServiceServicer_to_server)

    def __init__(self, app: App) -> None:
        self.app = app
