"""Server reflection, both protocols: grpc.reflection.v1 (what current clients ask first: `buf curl`, grpcurl,
Postman) and grpc.reflection.v1alpha (older clients). grpcio-reflection implements only v1alpha; v1's messages are
the same messages under another package (same fields, same numbers), so one servicer answers both, and a copy of
the v1alpha file renamed to v1 lets clients reflect on the v1 service itself.

The google.rpc types a refusal carries in its details (Status, ErrorInfo, BadRequest, LocalizedMessage) are in the
descriptor pool reflection serves from, so a client can resolve them by name and decode the details.
"""

from __future__ import annotations

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from google.rpc import error_details_pb2, status_pb2
from grpc_reflection.v1alpha import _async as reflection_async
from grpc_reflection.v1alpha import reflection
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha_pb2

V1_SERVICE_NAME = "grpc.reflection.v1.ServerReflection"
V1ALPHA_SERVICE_NAME = reflection.SERVICE_NAME
V1_FILE_NAME = "grpc/reflection/v1/reflection.proto"

# The detail types of every refusal (service/errors.py), named so a test can check that reflection resolves each.
DETAIL_TYPES = (status_pb2.Status, error_details_pb2.ErrorInfo, error_details_pb2.BadRequest,
                error_details_pb2.LocalizedMessage)


def _add_v1_file(pool: descriptor_pool.DescriptorPool) -> None:
    """grpc/reflection/v1/reflection.proto, made from the v1alpha file, in the pool (once per process)."""
    try:
        pool.FindFileByName(V1_FILE_NAME)
        return
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto()
    v1alpha_pb2.DESCRIPTOR.CopyToProto(file)
    file.name = V1_FILE_NAME
    file.package = "grpc.reflection.v1"
    for message in file.message_type:
        for field in message.field:
            if field.type_name.startswith(".grpc.reflection.v1alpha."):
                field.type_name = field.type_name.replace(".v1alpha.", ".v1.", 1)
    for method in file.service[0].method:
        method.input_type = method.input_type.replace(".v1alpha.", ".v1.", 1)
        method.output_type = method.output_type.replace(".v1alpha.", ".v1.", 1)
    pool.Add(file)


def enable(server: grpc.aio.Server, service_names: list[str]) -> None:
    """Serve reflection v1 and v1alpha for `service_names` (plus both reflection services themselves)."""
    pool = descriptor_pool.Default()
    _add_v1_file(pool)
    for detail_type in DETAIL_TYPES:  # imported above: their files are in the pool
        assert pool.FindMessageTypeByName(detail_type.DESCRIPTOR.full_name)
    servicer = reflection_async.ReflectionServicer([*service_names, V1_SERVICE_NAME, V1ALPHA_SERVICE_NAME], pool=pool)
    for name in (V1_SERVICE_NAME, V1ALPHA_SERVICE_NAME):
        handler = grpc.stream_stream_rpc_method_handler(
            servicer.ServerReflectionInfo,
            request_deserializer=v1alpha_pb2.ServerReflectionRequest.FromString,
            response_serializer=v1alpha_pb2.ServerReflectionResponse.SerializeToString,
        )
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": handler}),))
