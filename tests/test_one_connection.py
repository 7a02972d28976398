"""Every service process holds exactly one connection to NATS: its broker's, with its own identity."""

import psutil

from tests.helpers import eventually
from voxledger.stack.supervisor import Stack


def nats_connections(pid: int, nats_ports: set[int]) -> int:
    """The TCP connections the process `pid` holds open to a NATS node, counted by the kernel."""
    return sum(
        1
        for conn in psutil.Process(pid).net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port in nats_ports and conn.status == psutil.CONN_ESTABLISHED
    )


def test_every_process_holds_one_nats_connection(stack: Stack) -> None:
    nats_ports = {int(url.rsplit(":", 1)[1]) for url in stack.nats_url.split(",")}

    def counts() -> dict[str, int]:
        return {p.label: nats_connections(p.proc.pid, nats_ports) for p in stack.processes}

    services = {p.name for p in stack.processes}
    assert services >= {"transcriber", "live", "postproc", "webhooks", "keys", "projector", "gateway"}
    last: dict[str, dict[str, int]] = {}

    def all_one() -> bool:
        last["counts"] = counts()
        return set(last["counts"].values()) == {1}

    try:
        eventually(all_one, "one NATS connection per process", timeout_s=60)
    finally:
        print("NATS connections per process:", last.get("counts"))
