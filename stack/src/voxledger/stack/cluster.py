"""A NATS cluster on loopback: `voxledger up --nats-cluster 3` (and `Stack(..., nats_cluster=3)` in tests).

Each node is an embedded nats-server (stack/embedded.py) with its own client port, route port and JetStream
store under `<data dir>/nats-<n>/`, and the same generated `authorization` block, so every service identity
works on every node. Routes authenticate too: a generated user and password (owner-only, in the secrets
directory and in each node's owner-only config), so nothing else on the host can join the cluster and read
the replicated streams. Services get every node's URL and fail over among them.
"""

import asyncio
import os
import secrets
import signal
import time
from pathlib import Path
from typing import Any

import nats.errors
import nats.js.errors

from voxledger.runtime import broker, provisioning
from voxledger.stack.embedded import NatsServer, free_port
from voxledger.stack.secrets import Secrets, write_private

CLUSTER_NAME = "voxledger"
ROUTE_USER = "route"
MAX_REPLICAS = 3  # JetStream's usual: a majority survives one lost node; more replicas only add write latency


def route_password(secrets_: Secrets) -> str:
    """The routes' shared password, generated once (kept across restarts, like every other identity)."""
    path = secrets_.directory / "nats-route.password"
    write_private(path, secrets.token_hex(24) + "\n")
    return path.read_text().strip()


class NatsCluster:
    """`size` clustered nats-servers; `url` is the comma-separated list services take as NATS_URL."""

    name = "nats"

    def __init__(self, data_dir: Path, run_dir: Path, size: int, authorization: dict[str, Any], password: str):
        self.run_dir = run_dir
        route_ports = [free_port() for _ in range(size)]
        self.nodes = [
            NatsServer(
                data_dir / f"nats-{n}",
                authorization=authorization,
                server_name=f"{CLUSTER_NAME}-{n}",
                cluster=_cluster_block(n, route_ports, password),
            )
            for n in range(size)
        ]

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    @property
    def replicas(self) -> int:
        return min(len(self.nodes), MAX_REPLICAS)

    def start(self) -> "NatsCluster":
        for n in range(len(self.nodes)):
            self.start_node(n)
        return self

    def start_node(self, n: int) -> NatsServer:
        """Starts node `n` (again): the same ports and store, so it rejoins and catches up."""
        node = self.nodes[n].start()
        (self.run_dir / f"nats-{n}.pid").write_text(f"{node.pid}\n")
        return node

    def kill_node(self, n: int) -> None:
        """kill -9: no goodbye to its peers, no flush; what a crash or a pulled plug does."""
        proc = self.nodes[n].proc
        assert proc is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        (self.run_dir / f"nats-{n}.pid").unlink(missing_ok=True)

    def node_of(self, server_name: str) -> int:
        return next(n for n, node in enumerate(self.nodes) if node.server_name == server_name)

    def stop(self) -> None:
        for n, node in enumerate(self.nodes):
            node.stop()
            (self.run_dir / f"nats-{n}.pid").unlink(missing_ok=True)


def _cluster_block(n: int, route_ports: list[int], password: str) -> dict[str, Any]:
    routes = [f"nats-route://{ROUTE_USER}:{password}@127.0.0.1:{p}" for i, p in enumerate(route_ports) if i != n]
    return {
        "name": CLUSTER_NAME,
        "host": "127.0.0.1",
        "port": route_ports[n],
        "authorization": {"user": ROUTE_USER, "password": password, "timeout": 2},
        "routes": routes,
    }


# JetStream answers these (or nothing) while its meta group elects a leader or learns its peers.
_NOT_YET = (*broker.BROKER_UNAVAILABLE_ERRORS, nats.errors.NoServersError, nats.js.errors.APIError)


async def wait_formed(access: broker.NatsAccess, replicas: int, timeout_s: float = 60) -> None:
    """Until the cluster's JetStream takes the streams and buckets at `replicas` (idempotent): a fresh cluster
    first elects a meta leader, and refuses replicated streams until enough peers have joined."""
    nc = await broker.connect(access, "provision")
    try:
        js = nc.jetstream(timeout=2)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                await provisioning.provision(js, replicas)
                return
            except _NOT_YET as err:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the NATS cluster did not form within {timeout_s:.0f} s: {err!r}") from err
                await asyncio.sleep(0.2)
    finally:
        await nc.close()
