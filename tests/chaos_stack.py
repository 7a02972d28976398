"""The stack the suite starts: the embedded one, with the hooks chaos tests use to break it on purpose."""

import contextlib
from collections.abc import Iterator

from voxledger.stack.supervisor import ServiceProcess, Stack


class ChaosStack(Stack):
    """Restarts, outages and extra replicas: what a test does to a running stack and an operator does not."""

    def restart(self, name: str, index: int = 0) -> ServiceProcess:
        """Starts a fresh process in place of the given one (killing it first if it still runs)."""
        i, old = next((i, p) for i, p in enumerate(self.processes) if p.name == name and p.index == index)
        if old.proc.poll() is None:
            old.proc.kill()
            old.proc.wait()
        self.processes[i] = self._spawn(name, index)
        return self.processes[i]

    @contextlib.contextmanager
    def outage(self, server: str) -> Iterator[None]:
        """Stops the embedded `nats` or `postgres` server for the block, then starts it again on the
        same port with the same data: a real outage the services have to ride out."""
        running = {"nats": self.nats, "postgres": self.postgres}[server]
        if running is None:
            raise RuntimeError(f"{server} is external to this stack; only embedded servers can be restarted")
        running.stop()
        try:
            yield
        finally:
            running.start()

    def restart_nats(self) -> None:
        with self.outage("nats"):
            pass

    def restart_postgres(self) -> None:
        with self.outage("postgres"):
            pass

    def add(self, name: str) -> ServiceProcess:
        """Starts one more instance of a service on the running stack."""
        index = max((p.index for p in self.processes if p.name == name), default=-1) + 1
        self.processes.append(self._spawn(name, index))
        return self.processes[-1]

    def process_of(self, worker: str) -> ServiceProcess:
        """The process now running as the replica a worker id names (`runtime.lifecycle.worker_id`: the
        replica's name, which this stack sets, then a random instance)."""
        label = worker.rsplit("-", 1)[0]
        return next(p for p in self.processes if p.label == label)
