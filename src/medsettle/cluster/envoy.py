"""Envoy's configuration, generated from the shard map: the only routing there is, and it is Envoy's.

Routes, first match wins:
1. `x-medsettle-shard: <name>`: that shard (pushes of reference data and gathering calls name each shard in turn).
2. `x-insuplc-admdvs` whose first two digits are a province of a shard: that shard (every call about a person).
3. anything else: any healthy shard (reference-data reads, FindInsuredPlace, health). A call that needed a header
   and has none lands here too, and the shard refuses it with a stable reason (service/placement.py).

Identity end to end: callers present their certificates to Envoy (mutual TLS, the platform's CA); Envoy replaces any
x-forwarded-client-cert a caller sent with one naming the URI SAN of the certificate it verified (SANITIZE_SET) and
calls the shard over mutual TLS with its own certificate, `medsettle:proxy:<name>`. A shard believes the header only
from that certificate (service/access.py).

Retries only where they cannot do a thing twice: a connection that failed or a stream refused before the shard saw it
(connect-failure, refused-stream), and UNAVAILABLE for calls that carry a request id (`x-medsettle-request-id`; the
shard answers a repeated request id with the first answer). Health: gRPC health checks every second; a shard that
fails three in a row is out (healthy_panic_threshold 0: no healthy shard means an immediate UNAVAILABLE, never a
wait); a shard that died refuses connections, so its calls fail fast before that too.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

from medsettle.domain.shards import ShardMap
from medsettle.service.placement import INSURED_PLACE_KEY, REQUEST_ID_KEY, SHARD_KEY

ANY_CLUSTER = "any-shard"
PROXY_NAME = "envoy"  # its certificate names it medsettle:proxy:envoy
RETRIES_MAX = 2
RETRY_BASE_S = 0.025
RETRY_MAX_S = 0.25
HEALTH_INTERVAL_S = 1.0
HEALTH_TIMEOUT_S = 2.0
# Three failed checks in a row take a shard out: one slow answer on a loaded host must not (every call would then be
# refused at once); a dead shard refuses connections, which fails its calls fast before the checks notice.
UNHEALTHY_THRESHOLD = 3
CONNECT_TIMEOUT_S = 1.0
ROUTE_TIMEOUT_S = 300  # a long push; a call's own grpc-timeout, when it sends one, governs below this
REQUESTS_MAX = 100_000  # per shard in flight: each shard's own admission (intake.py) refuses sooner, with a reason
PROBE_PATH = "/ready"  # on the probe listener: 200 while Envoy is live and not draining (orchestrators' probes)
TLS = "envoy.transport_sockets.tls"
TYPES = "type.googleapis.com/envoy.extensions"


@dataclass(frozen=True)
class TlsFiles:
    """PEM files as Envoy sees them (paths on its own filesystem)."""

    ca: str
    server_cert: str  # presented to callers
    server_key: str
    proxy_cert: str  # presented to shards: medsettle:proxy:<name>
    proxy_key: str


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _tls_context(files: TlsFiles, *, upstream: bool) -> dict:
    certificate = (files.proxy_cert, files.proxy_key) if upstream else (files.server_cert, files.server_key)
    context = {
        "common_tls_context": {
            "tls_certificates": [{"certificate_chain": {"filename": certificate[0]},
                                  "private_key": {"filename": certificate[1]}}],
            "validation_context": {"trusted_ca": {"filename": files.ca}},
            "alpn_protocols": ["h2"],
        },
    }
    if upstream:
        return {"name": TLS, "typed_config": {
            "@type": f"{TYPES}.transport_sockets.tls.v3.UpstreamTlsContext", **context}}
    return {"name": TLS, "typed_config": {
        "@type": f"{TYPES}.transport_sockets.tls.v3.DownstreamTlsContext", "require_client_certificate": True,
        **context}}


def _cluster(name: str, addresses: list[str], files: TlsFiles) -> dict:
    endpoints = []
    for address in addresses:
        host, port = _host_port(address)
        endpoints.append({"endpoint": {"address": {"socket_address": {"address": host, "port_value": port}}}})
    by_name = not all(_is_ip(_host_port(address)[0]) for address in addresses)
    return {
        "name": name,
        "type": "STRICT_DNS" if by_name else "STATIC",
        "connect_timeout": _seconds(CONNECT_TIMEOUT_S),
        "lb_policy": "ROUND_ROBIN",
        "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": f"{TYPES}.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {"http2_protocol_options": {}}}},
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": endpoints}]},
        "transport_socket": _tls_context(files, upstream=True),
        "health_checks": [{
            "timeout": _seconds(HEALTH_TIMEOUT_S), "interval": _seconds(HEALTH_INTERVAL_S),
            "no_traffic_interval": _seconds(HEALTH_INTERVAL_S),
            "unhealthy_threshold": UNHEALTHY_THRESHOLD, "healthy_threshold": 1, "grpc_health_check": {},
        }],
        "common_lb_config": {"healthy_panic_threshold": {"value": 0}},
        "circuit_breakers": {"thresholds": [{"max_connections": REQUESTS_MAX, "max_pending_requests": REQUESTS_MAX,
                                             "max_requests": REQUESTS_MAX, "max_retries": REQUESTS_MAX}]},
    }


def _retry(with_request_id: bool) -> dict:
    return {
        "retry_on": "connect-failure,refused-stream" + (",unavailable" if with_request_id else ""),
        "num_retries": RETRIES_MAX,
        "retry_back_off": {"base_interval": _seconds(RETRY_BASE_S), "max_interval": _seconds(RETRY_MAX_S)},
    }


def _routes(headers: list[dict], cluster: str) -> list[dict]:
    """The same match twice: with a request id (UNAVAILABLE retried too), then without."""
    routes = []
    for with_request_id in (True, False):
        matched = headers + ([{"name": REQUEST_ID_KEY, "present_match": True}] if with_request_id else [])
        routes.append({
            "match": {"prefix": "/", **({"headers": matched} if matched else {})},
            "route": {"cluster": cluster, "timeout": _seconds(ROUTE_TIMEOUT_S),
                      "max_stream_duration": {"grpc_timeout_header_max": _seconds(ROUTE_TIMEOUT_S)},
                      "retry_policy": _retry(with_request_id)},
        })
    return routes


def _probe_listener(probe_listen: str) -> dict:
    host, port = _host_port(probe_listen)
    manager = {
        "@type": f"{TYPES}.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "probes",
        "route_config": {"name": "probes", "virtual_hosts": [{"name": "probes", "domains": ["*"], "routes": [
            {"match": {"prefix": "/"}, "direct_response": {"status": 404}}]}]},
        "http_filters": [
            {"name": "envoy.filters.http.health_check", "typed_config": {
                "@type": f"{TYPES}.filters.http.health_check.v3.HealthCheck", "pass_through_mode": False,
                "headers": [{"name": ":path", "string_match": {"exact": PROBE_PATH}}]}},
            {"name": "envoy.filters.http.router", "typed_config": {"@type": f"{TYPES}.filters.http.router.v3.Router"}},
        ],
    }
    return {"name": "probes", "address": {"socket_address": {"address": host, "port_value": port}},
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                            "typed_config": manager}]}]}


def config(shard_map: ShardMap, files: TlsFiles, *, listen: str, admin_listen: str,
           addresses: dict[str, str] | None = None, probe_listen: str = "") -> dict:
    """Envoy's bootstrap. `addresses`: shard name -> host:port where Envoy reaches it (default: the map's own).
    `probe_listen`: a plaintext listener answering PROBE_PATH only, for an orchestrator's probes."""
    addresses = addresses or {shard.name: shard.address for shard in shard_map.shards}
    assert set(addresses) == set(shard_map.names) and all(addresses.values()), addresses
    routes = []
    for shard in shard_map.shards:
        routes += _routes([{"name": SHARD_KEY, "string_match": {"exact": shard.name}}], shard.name)
    for shard in shard_map.shards:
        prefixes = "|".join(sorted({province[:2] for province in shard.provinces}))
        routes += _routes([{"name": INSURED_PLACE_KEY,
                            "string_match": {"safe_regex": {"regex": f"^({prefixes})[0-9]{{4}}$"}}}], shard.name)
    routes += _routes([], ANY_CLUSTER)
    listen_host, listen_port = _host_port(listen)
    admin_host, admin_port = _host_port(admin_listen)
    manager = {
        "@type": f"{TYPES}.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "medsettle",
        "codec_type": "HTTP2",
        "forward_client_cert_details": "SANITIZE_SET",
        "set_current_client_cert_details": {"uri": True},
        "route_config": {"name": "shards", "virtual_hosts": [{"name": "medsettle", "domains": ["*"],
                                                              "routes": routes}]},
        "http_filters": [{"name": "envoy.filters.http.router",
                          "typed_config": {"@type": f"{TYPES}.filters.http.router.v3.Router"}}],
    }
    return {
        "admin": {"address": {"socket_address": {"address": admin_host, "port_value": admin_port}}},
        "static_resources": {
            "listeners": [{
                "name": "medsettle",
                "address": {"socket_address": {"address": listen_host, "port_value": listen_port}},
                "filter_chains": [{
                    "transport_socket": _tls_context(files, upstream=False),
                    "filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}],
                }],
            }, *([_probe_listener(probe_listen)] if probe_listen else [])],
            "clusters": [*(_cluster(shard.name, [addresses[shard.name]], files) for shard in shard_map.shards),
                         _cluster(ANY_CLUSTER, [addresses[name] for name in shard_map.names], files)],
        },
    }


def render(bootstrap: dict) -> str:
    """JSON, which Envoy reads as YAML: no YAML library needed, and one byte form for one configuration."""
    return json.dumps(bootstrap, indent=2, sort_keys=False) + "\n"
