"""The admin CLI and settings validation, run as a user would run them."""

import os
import subprocess
import sys

import httpx

from tests.helpers import eventually


def test_keys_create_prints_a_key_that_works_for_its_tenant_only(stack, client):
    # An operator off the stack's host names the identity: here the key command handler's, the one allowed.
    env = {
        **os.environ,
        "NATS_URL": stack.nats_url,
        "VOXLEDGER_NATS_NKEY_SEED_FILE": stack.nats_as("keys").nkey_seed_file,
    }
    created = subprocess.run(
        [sys.executable, "-m", "voxledger.stack.cli", "keys", "create", "--tenant", "cli-tenant"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    api_key = created.stdout.strip()
    assert api_key.startswith("vl_") and len(api_key) > 40
    with httpx.Client(base_url=stack.http_url, headers={"Authorization": f"Bearer {api_key}"}) as cli_client:
        listing = eventually(
            lambda: (r := cli_client.get("/v1/recordings")).status_code != 401 and r, "the key usable", 10
        )
        assert listing.json() == {"items": [], "next_cursor": None}

    refused = subprocess.run(
        [sys.executable, "-m", "voxledger.stack.cli", "keys", "create", "--tenant", "bad tenant!"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "tenant" in refused.stderr


def test_a_service_with_an_invalid_setting_stops_with_one_clear_line():
    env = {**os.environ, "VOXLEDGER_HTTP_PORT": "eighty", "VOXLEDGER_LOG_FORMAT": "json"}
    result = subprocess.run(
        [sys.executable, "-m", "voxledger.gateway"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "VOXLEDGER_HTTP_PORT" in result.stderr and "int" in result.stderr


def test_a_read_that_cannot_be_consistent_in_time_says_it_is_stale(client):
    recordings = client.get("/v1/recordings", params={"min_seq": 10**12})
    assert recordings.status_code == 200
    assert recordings.headers.get("X-Read-Model-Stale") == "true"
    fresh = client.get("/v1/recordings", params={"min_seq": 1})
    assert "X-Read-Model-Stale" not in fresh.headers
    invalid = client.get("/v1/recordings", params={"min_seq": "soon"})
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid_min_seq"


def test_provision_is_idempotent_and_reads_its_settings_from_the_environment(stack):
    env = {
        **os.environ,
        "NATS_URL": stack.nats_url,
        "VOXLEDGER_NATS_NKEY_SEED_FILE": stack.nats_as("provision").nkey_seed_file,
        "DATABASE_URL": stack.database_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "voxledger.stack.cli", "provision"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "schema version" in done.stdout, done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "voxledger.stack.cli", "provision"],
        env={**env, "VOXLEDGER_STREAM_REPLICAS": "three"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "VOXLEDGER_STREAM_REPLICAS" in bad.stderr
