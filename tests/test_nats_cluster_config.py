"""The NATS cluster's configuration, without starting it: every node's URL reaches the clients, and each
node routes to the others (never to itself) with the routes' own credentials."""

from pathlib import Path

from voxledger.runtime.broker import NatsAccess
from voxledger.stack.cluster import ROUTE_USER, NatsCluster


def test_a_comma_separated_url_is_every_node_for_the_client():
    access = NatsAccess(url="nats://a:4222, nats://b:4222,nats://c:4222")
    assert access.servers == ["nats://a:4222", "nats://b:4222", "nats://c:4222"]
    assert NatsAccess(url="nats://one:4222").servers == ["nats://one:4222"]


def test_each_node_routes_to_the_others_with_the_route_credentials(tmp_path: Path):
    nodes = NatsCluster(tmp_path, tmp_path / "run", 3, {"users": []}, "s3cret").nodes
    route_ports = [node.cluster["port"] for node in nodes if node.cluster]
    assert len(set(route_ports)) == 3 and len({node.port for node in nodes}) == 3
    for n, node in enumerate(nodes):
        assert node.cluster is not None and node.data_dir == tmp_path / f"nats-{n}"
        assert node.cluster["authorization"] == {"user": ROUTE_USER, "password": "s3cret", "timeout": 2}
        others = [f"nats-route://{ROUTE_USER}:s3cret@127.0.0.1:{p}" for i, p in enumerate(route_ports) if i != n]
        assert node.cluster["routes"] == others
    assert len({node.server_name for node in nodes}) == 3, "JetStream needs a unique name per node"
