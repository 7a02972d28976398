"""deploy/ offline: every Kubernetes manifest validates against the API schemas (kubernetes-validate), each
service has its own NATS identity, a database Secret only where it needs one and a NetworkPolicy; no Secret
with a value is committed; images are pinned; the compose file gives each service only its own secrets; and
what `voxledger credentials` writes is a nats-server config nats-server accepts; every consumer-driven service
scales on its own consumers' backlog (KEDA), the live workers on the gateways' session gauge, and every
service has a disruption budget; NATS is a three-server cluster whose config nats-server accepts; the compose
file is valid by the Compose Specification's schema. No server, no network."""

import datetime
import importlib.resources
import ipaddress
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from voxledger.contracts import streams
from voxledger.gateway.http.metrics import GatewayMetrics
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.nats_permissions import ROLES
from voxledger.stack.embedded import nats_server_binary

DEPLOY = Path(__file__).parent.parent / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.33"
DB_SECRETS = {"gateway": "voxledger-db-reader", "projector": "voxledger-db-owner", "provision": "voxledger-db-owner"}
# The services that open data keys (runtime/vault.py) and so need the master key; no other one gets it.
MASTER_KEY_USERS = {"gateway", "transcriber", "live", "postproc", "projector"}
NATS_MIN = (2, 11, 15)
# The durable consumers each consumer-driven service pulls from (its app.py); KEDA scales it on some of them.
SERVICE_CONSUMERS = {
    "transcriber": {"recording-commands", "transcription-jobs", "diarization-runs", "transcription-work"},
    "postproc": {"insights-on-completion", "insights-on-request"},
    "webhooks": {"webhook-commands", "webhook-fanout", "webhook-deliveries", "tenant-commands"},
}
# Each must scale on the backlog of these (issue 16): jobs, insights after completion, webhook deliveries.
MUST_SCALE_ON = {
    "transcriber": "transcription-jobs",
    "postproc": "insights-on-completion",
    "webhooks": "webhook-deliveries",
}
NATS_NODES = [f"nats-{n}.nats-headless.nats.svc.cluster.local" for n in range(3)]
# KEDA's ScaledObject (keda.sh/v1alpha1) and its nats-jetstream trigger, as the KEDA docs define them: no schema
# ships for them, so a misspelt field (which KEDA would ignore) is caught here.
SCALED_OBJECT_SPEC = {
    "scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount",
    "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers",
}  # fmt: skip
TRIGGER = {"type", "name", "metadata", "authenticationRef", "metricType", "useCachedMetrics"}
JETSTREAM_REQUIRED = {"natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold"}
JETSTREAM_METADATA = JETSTREAM_REQUIRED | {"activationLagThreshold", "useHttps"}
# KEDA's prometheus trigger: the live workers scale on the gateways' session gauge.
PROMETHEUS_REQUIRED = {"serverAddress", "query", "threshold"}
PROMETHEUS_METADATA = PROMETHEUS_REQUIRED | {
    "activationThreshold", "namespace", "customHeaders", "ignoreNullValues", "queryParameters", "unsafeSsl",
}  # fmt: skip


def k8s_objects() -> list[dict]:
    return [
        doc
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def workloads() -> dict[str, dict]:
    """component -> pod spec, for every Deployment and Job."""
    found = {}
    for obj in k8s_objects():
        if obj["kind"] in ("Deployment", "Job"):
            component = obj["metadata"]["labels"]["app.kubernetes.io/component"]
            found[component] = obj["spec"]["template"]["spec"]
    return found


def test_every_manifest_validates_and_the_kustomization_lists_them_all():
    for obj in k8s_objects():
        if obj["apiVersion"].startswith("keda.sh/"):
            continue  # a KEDA custom resource: no schema in kubernetes-validate; checked field by field below
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert not [o for o in k8s_objects() if o["kind"] == "Secret"], "no Secret (so no default password) is committed"


def test_each_workload_has_its_own_identity_a_database_only_if_it_needs_one_and_pinned_images():
    pods = workloads()
    assert set(pods) == set(ROLES), "one workload per NATS role"
    for component, pod in pods.items():
        assert pod["securityContext"]["fsGroup"] == 10001
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert secrets["nats-identity"] == f"voxledger-nats-{component}", component
        assert (secrets.get("master-key") == "voxledger-master-key") == (component in MASTER_KEY_USERS), component
        (container,) = pod["containers"]
        db = [e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e]
        assert db == ([DB_SECRETS[component]] if component in DB_SECRETS else []), component
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+", container["image"]), container["image"]
    config = next(o for o in k8s_objects() if o["kind"] == "ConfigMap")["data"]
    assert config["NATS_URL"].startswith("tls://") and config["VOXLEDGER_NATS_TLS_CA_FILE"]


def test_network_policies_deny_by_default_and_open_only_what_each_service_uses():
    policies = {
        o["metadata"]["name"]: o["spec"]
        for o in k8s_objects()
        if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == "voxledger"
    }
    deny = policies["default-deny"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress") and not deny.get("egress")
    postgres = policies["egress-postgres"]["podSelector"]["matchExpressions"][0]["values"]
    assert set(postgres) == set(DB_SECRETS), "only the database's users reach PostgreSQL"
    ingress = [name for name, spec in policies.items() if spec.get("ingress")]
    assert ingress == ["gateway-ingress"], "only the gateway takes connections"


def test_the_gateway_trusts_the_forwarded_address_of_its_proxy_only_in_private_ranges():
    # Behind the ingress (or a proxy on the compose host) every client would otherwise have the proxy's address.
    (container,) = workloads()["gateway"]["containers"]
    k8s_value = next(e["value"] for e in container["env"] if e["name"] == "VOXLEDGER_TRUSTED_PROXIES")
    compose_env = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["gateway"]["environment"]
    compose_value = re.fullmatch(r"\$\{VOXLEDGER_TRUSTED_PROXIES:-(.+)\}", compose_env["VOXLEDGER_TRUSTED_PROXIES"])
    assert compose_value is not None
    for value in (k8s_value, compose_value.group(1)):
        networks = [ipaddress.ip_network(n) for n in value.split(",")]
        assert networks and all(n.is_private and n.prefixlen >= 8 for n in networks), value
    assert "trusted_proxies" in GatewaySettings.__struct_fields__


def test_compose_gives_each_service_only_its_own_secrets_and_no_default_password():
    text = (DEPLOY / "compose.yaml").read_text()
    assert "change-me" not in text
    compose = yaml.safe_load(text)
    services = compose["services"]
    nats_tag = services["nats"]["image"].split(":")[1].split("-")[0]
    assert tuple(int(part) for part in nats_tag.split(".")) >= NATS_MIN
    for name, service in services.items():
        assert ":" in service["image"] and not service["image"].endswith(":latest"), name
        env = service.get("environment", {})
        if name in ("nats", "postgres"):
            continue
        role = {"keys-cli": "keys"}.get(name, name)
        assert env["VOXLEDGER_NATS_NKEY_SEED_FILE"] == f"/run/secrets/nats-{role}", name
        nats_secrets = [s for s in service["secrets"] if s.startswith("nats-")]
        assert nats_secrets == [f"nats-{role}"], name
        has_master_key = name in MASTER_KEY_USERS
        assert ("master-key" in service["secrets"]) == has_master_key, name
        assert (env.get("VOXLEDGER_MASTER_KEY_FILE") == "/run/secrets/master-key") == has_master_key, name
        has_db = name in ("gateway", "projector", "provision", "keys-cli")
        assert ("DATABASE_URL" in env) == has_db, name
        if has_db:
            assert urlsplit(env["DATABASE_URL"]).password is None and env["PGPASSFILE"].startswith("/run/secrets/")
    assert all(s["file"].startswith("./secrets/") for s in compose["secrets"].values())


@pytest.fixture(scope="module")
def credentials(tmp_path_factory) -> tuple[Path, str]:
    """What `voxledger credentials` writes (the directory), and what it printed."""
    out = tmp_path_factory.mktemp("credentials") / "secrets"
    done = subprocess.run(
        [sys.executable, "-m", "voxledger.stack.cli", "credentials", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_the_generated_credentials_are_a_config_nats_server_accepts(tmp_path, credentials):
    out, printed = credentials
    (tmp_path / "auth").mkdir()
    (tmp_path / "auth" / "nats-auth.conf").write_text((out / "nats-auth.conf").read_text())
    config = (DEPLOY / "nats" / "nats.conf").read_text().replace('"/data"', f'"{tmp_path / "js"}"')
    (tmp_path / "nats.conf").write_text(config)
    checked = subprocess.run([nats_server_binary(), "-c", str(tmp_path / "nats.conf"), "-t"], capture_output=True)
    assert checked.returncode == 0, checked.stderr
    users = yaml.safe_load((out / "nats-auth.conf").read_text())["authorization"]["users"]
    assert len(users) == len(ROLES) and all(u["nkey"].startswith("U") for u in users)
    master = out / "master-key"
    assert master.stat().st_mode & 0o777 == 0o600, "the master key is owner-only"
    assert f"master key: {master}" in printed


def of_kind(kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in k8s_objects() if o["kind"] == kind}


def test_consumer_driven_services_scale_on_their_own_backlog_and_every_service_has_a_disruption_budget():
    deployments, scaled = of_kind("Deployment"), of_kind("ScaledObject")
    consumers = {c.durable: c.stream for c in streams.CONSUMERS}
    assert set(scaled) == set(SERVICE_CONSUMERS) | {"live"}
    for name, obj in scaled.items():
        spec = obj["spec"]
        assert obj["apiVersion"] == "keda.sh/v1alpha1" and obj["metadata"]["namespace"] == "voxledger"
        assert spec["scaleTargetRef"]["name"] == name and name in deployments
        assert "replicas" not in deployments[name]["spec"], f"{name}: KEDA sets the count; apply must not reset it"
        assert set(spec) <= SCALED_OBJECT_SPEC and set(obj) == {"apiVersion", "kind", "metadata", "spec"}, name
        assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"], name
        for trigger in spec["triggers"]:
            assert set(trigger) <= TRIGGER, (name, trigger)
            assert all(isinstance(value, str) for value in trigger["metadata"].values()), "a map of strings"
        if name == "live":
            continue
        watched = set()
        for trigger in spec["triggers"]:
            meta = trigger["metadata"]
            assert JETSTREAM_REQUIRED <= set(meta) <= JETSTREAM_METADATA, (name, meta)
            assert trigger["type"] == "nats-jetstream" and meta["account"] == "$G", name
            # KEDA finds the consumer's leader at <server_name>.<this host>: the headless Service of nats.yaml.
            assert meta["natsServerMonitoringEndpoint"] == "nats-headless.nats.svc.cluster.local:8222"
            # An unknown consumer is no error to KEDA: it reads the stream's last sequence as the lag instead.
            assert consumers.get(meta["consumer"]) == meta["stream"], (name, meta)
            assert int(meta["lagThreshold"]) > 0
            watched.add(meta["consumer"])
        assert MUST_SCALE_ON[name] in watched <= SERVICE_CONSUMERS[name], name
    budgets = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for b in of_kind("PodDisruptionBudget").values()
        if b["metadata"]["namespace"] == "voxledger"
    }
    for name, obj in deployments.items():
        replicas = obj["spec"].get("replicas", 1)
        assert name in scaled or "replicas" in obj["spec"], f"{name}: a replica count or an autoscaler"
        if name in scaled or replicas > 1:
            assert name in budgets, f"{name}: more than one pod and no PodDisruptionBudget"


def test_live_workers_scale_on_the_gateways_session_gauge_at_their_capacity_per_pod():
    live = of_kind("ScaledObject")["live"]["spec"]
    assert live["minReplicaCount"] >= 2, "enough to survive one pod"
    [trigger] = live["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "prometheus" and PROMETHEUS_REQUIRED <= set(meta) <= PROMETHEUS_METADATA, meta
    # A metric the gateway really exports (a misspelt one is an empty result, which KEDA reads as no load).
    exported = {family.name for family in GatewayMetrics().registry.collect()}
    [metric] = re.findall(r"voxledger_\w+", meta["query"])
    assert metric in exported, (metric, sorted(exported))
    # Sessions per pod: what one live worker holds at once.
    [container] = of_kind("Deployment")["live"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert meta["threshold"] == env["VOXLEDGER_LIVE_MAX_SESSIONS"], (meta["threshold"], env)


def self_signed(directory: Path) -> None:
    """A throwaway certificate for nats-server's config check (it loads every TLS file it is given)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nats")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in NATS_NODES]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (directory / "tls.crt").write_bytes(pem)
    (directory / "ca.crt").write_bytes(pem)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (directory / "tls.key").write_bytes(key_pem)


def test_nats_is_a_three_server_cluster_with_tls_and_a_config_nats_server_accepts(tmp_path, credentials):
    (statefulset,) = of_kind("StatefulSet").values()
    spec, pod = statefulset["spec"], statefulset["spec"]["template"]["spec"]
    headless = of_kind("Service")[spec["serviceName"]]["spec"]
    assert spec["replicas"] == 3 and headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"]
    assert {p["port"] for p in headless["ports"]} == {4222, 6222, 8222}
    (template,) = spec["volumeClaimTemplates"]
    assert template["metadata"]["name"] in {m["name"] for m in pod["containers"][0]["volumeMounts"]}
    (container,) = pod["containers"]
    tag = container["image"].split(":")[1].split("-")[0]
    assert tuple(int(part) for part in tag.split(".")) >= NATS_MIN
    config_map = of_kind("ConfigMap")
    assert int(config_map["voxledger-config"]["data"]["VOXLEDGER_STREAM_REPLICAS"]) == spec["replicas"]
    services_url = config_map["voxledger-config"]["data"]["NATS_URL"].split(",")
    assert services_url == [f"tls://{node}:4222" for node in NATS_NODES], "every service knows every server"
    assert of_kind("PodDisruptionBudget")["nats"]["spec"]["maxUnavailable"] == 1, "a drain keeps a majority"

    config = config_map["nats-config"]["data"]["nats.conf"]
    for node in NATS_NODES:
        assert f"nats://{node}:6222" in config
    # The config as the pod sees it (projected volume at /etc/nats), checked by nats-server itself.
    etc = tmp_path / "etc"
    self_signed(etc / "tls")
    out, _ = credentials
    (etc / "auth").mkdir()
    (etc / "auth" / "nats-auth.conf").write_text((out / "nats-auth.conf").read_text())
    config = config.replace("/etc/nats/", f"{etc}/").replace("/data", str(tmp_path / "js"))
    config = config.replace("/var/run/nats/", f"{tmp_path}/")
    (etc / "nats.conf").write_text(config)
    env = {**os.environ, "POD_NAME": "nats-0"}
    checked = subprocess.run([nats_server_binary(), "-c", str(etc / "nats.conf"), "-t"], capture_output=True, env=env)
    assert checked.returncode == 0, checked.stderr


def compose_schema() -> dict:
    """The Compose Specification's JSON schema, as check-jsonschema ships it (`--builtin-schema vendor.compose-spec`)."""
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


def test_the_compose_file_is_valid_by_the_compose_specification():
    validator = jsonschema.Draft202012Validator(compose_schema())
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors, errors
    # The schema does bite: a misspelt key in a service is refused.
    compose["services"]["gateway"]["replica"] = 2
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(compose)
