"""What the embedded stack writes before it starts a server: owner-only files, nats-server's config."""

import asyncio
import json
import stat

import nats
import nats.errors
import pytest

from voxledger.runtime.broker import connect
from voxledger.runtime.nats_permissions import server_authorization
from voxledger.stack.cluster import _cluster_block
from voxledger.stack.embedded import NatsServer
from voxledger.stack.secrets import Secrets, write_private


def test_a_private_file_is_owner_only_and_kept_unless_replaced(tmp_path):
    path = tmp_path / "secret"
    write_private(path, "first")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_private(path, "second")
    assert path.read_text() == "first", "an identity survives a restart"
    write_private(path, "third", replace=True)
    assert path.read_text() == "third" and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_cluster_node_routes_to_every_other_node_and_listens_on_its_own_port():
    block = _cluster_block(1, [7001, 7002, 7003], "pw")
    assert block["port"] == 7002
    assert [r.rsplit(":", 1)[1] for r in block["routes"]] == ["7001", "7003"]
    assert block["authorization"]["password"] == "pw" and all(":pw@127.0.0.1:" in r for r in block["routes"])


def test_a_server_without_authorization_writes_no_config(tmp_path):
    server = NatsServer(tmp_path).start()
    try:
        assert not (tmp_path / "nats.conf").exists()
    finally:
        server.stop()


async def test_the_written_authorization_admits_each_role_and_nobody_else(tmp_path):
    secrets = Secrets(tmp_path / "secrets").ensure()
    server = NatsServer(tmp_path / "nats", authorization=server_authorization(secrets.public_keys())).start()
    try:
        conf = tmp_path / "nats" / "nats.conf"
        assert stat.S_IMODE(conf.stat().st_mode) == 0o600
        assert "authorization" in json.loads(conf.read_text())
        nc = await connect(secrets.nats_access(server.url, "provision"), "test")
        await nc.close()
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(server.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)
    finally:
        await asyncio.to_thread(server.stop)
