"""deploy/ offline: every Kubernetes manifest validates against the API schemas (kubernetes-validate), each
service has its own NATS identity, a database Secret only where it needs one and a NetworkPolicy; no Secret
with a value is committed; images are pinned; the compose file gives each service only its own secrets; and
what `voxledger credentials` writes is a nats-server config nats-server accepts. No server, no network."""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import yaml

from voxledger.runtime.nats_permissions import ROLES
from voxledger.stack.embedded import nats_server_binary

DEPLOY = Path(__file__).parent.parent / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.33"
DB_SECRETS = {"gateway": "voxledger-db-reader", "projector": "voxledger-db-owner", "provision": "voxledger-db-owner"}
# The services that open data keys (runtime/vault.py) and so need the master key; no other one gets it.
MASTER_KEY_USERS = {"gateway", "transcriber", "live", "postproc", "projector"}
NATS_MIN = (2, 11, 15)


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
            continue  # a KEDA custom resource: no schema in kubernetes-validate
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
    policies = {o["metadata"]["name"]: o["spec"] for o in k8s_objects() if o["kind"] == "NetworkPolicy"}
    deny = policies["default-deny"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress") and not deny.get("egress")
    postgres = policies["egress-postgres"]["podSelector"]["matchExpressions"][0]["values"]
    assert set(postgres) == set(DB_SECRETS), "only the database's users reach PostgreSQL"
    ingress = [name for name, spec in policies.items() if spec.get("ingress")]
    assert ingress == ["gateway-ingress"], "only the gateway takes connections"


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


def test_the_generated_credentials_are_a_config_nats_server_accepts(tmp_path):
    out = tmp_path / "secrets"
    done = subprocess.run(
        [sys.executable, "-m", "voxledger.stack.cli", "credentials", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
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
    assert f"master key: {master}" in done.stdout
