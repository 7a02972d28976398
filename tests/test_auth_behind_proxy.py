"""The failed-authentication limit behind a real reverse proxy (Debian's nginx, scripts/ensure_nginx.sh), as the
ingress of deploy/ puts one in front of the gateway: every connection comes from the proxy, the client's address
only in its X-Forwarded-For. A gateway of the test's own on the shared stack's servers trusts the proxy
(VOXLEDGER_TRUSTED_PROXIES) and exempts nobody; clients reach the proxy from distinct loopback addresses."""

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.helpers import second_gateway, serving, upload
from voxledger.stack.embedded import free_port

LIMIT = 20  # VOXLEDGER_AUTH_FAILURES_PER_MINUTE's default
NGINX_CONF = """
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        }}
    }}
}}
"""


@pytest.fixture
def proxied(stack, tmp_path) -> Iterator[str]:
    """The URL of nginx in front of a gateway that trusts it (and only it) for the client's address."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: run scripts/ensure_nginx.sh (`just test` does)"
    trusting = {"VOXLEDGER_TRUSTED_PROXIES": "127.0.0.1", "VOXLEDGER_AUTH_LIMIT_EXEMPT": ""}
    with second_gateway(stack, tmp_path / "gateway.log", trusting) as upstream:
        port = free_port()
        conf = tmp_path / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=tmp_path, port=port, upstream=upstream))
        url = f"http://127.0.0.1:{port}"
        command = [nginx, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)]
        with serving(command, f"{url}/healthz", tmp_path / "nginx.log"):
            yield url


def from_address(url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address), timeout=30)


async def live_auth(url: str, address: str, key: str) -> dict:
    """The error a live socket from `address` gets for `stop` (with no session) once it sent `key`."""
    ws_url = url.replace("http://", "ws://") + "/v1/live"
    async with websockets.connect(ws_url, local_addr=(address, 0)) as ws:
        await ws.send(json.dumps({"type": "auth", "api_key": key}))
        await ws.send(json.dumps({"type": "stop"}))
        return json.loads(await asyncio.wait_for(ws.recv(), 30))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_behind_a_proxy_invalid_keys_are_limited_per_client_and_a_valid_key_is_always_served(proxied, client):
    owner = client  # an admin of a tenant of this test's own
    with from_address(proxied, "127.0.0.2") as guesser:
        valid = owner.headers["Authorization"].removeprefix("Bearer ")
        recording = upload(owner, "short_meeting.ogg", transcribe="false").json()["recording_id"]
        link = owner.post(f"/v1/recordings/{recording}/audio-link").json()["url"]

        answers = [guesser.get("/v1/recordings", headers=bearer(f"vl_guess{i}")) for i in range(LIMIT + 10)]
        assert [a.status_code for a in answers] == [401] * LIMIT + [429] * 10
        assert {a.json()["code"] for a in answers[LIMIT:]} == {"too_many_auth_failures"}
        forged = guesser.get(f"/v1/recordings/{recording}/audio", params={"link": link.split("link=")[1] + "x"})
        assert forged.status_code == 429  # bad audio links count and wait like bad keys

        # The same client, now with valid credentials: served whatever it sent before.
        assert guesser.get("/v1/recordings", headers=bearer(valid)).status_code == 200
        assert guesser.get(link).status_code == 200
        # The live socket counts and serves the same way.
        assert (await live_auth(proxied, "127.0.0.2", "vl_guess-live"))["code"] == "too_many_auth_failures"
        assert (await live_auth(proxied, "127.0.0.2", valid))["code"] == "start_required"  # authenticated
        # Another client behind the same proxy is counted apart: the gateway saw the forwarded address.
        with from_address(proxied, "127.0.0.3") as other:
            refused = other.get("/v1/recordings", headers=bearer("vl_guess-other"))
            assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"
