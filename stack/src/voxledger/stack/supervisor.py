"""The embedded stack: servers, provisioning and one OS process per service instance.

A service that exits unexpectedly is restarted with backoff, which is also what
a container orchestrator does in production.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec
import nats.errors
import structlog

from voxledger.contracts import streams
from voxledger.contracts.events import DEV_KEY_LABEL
from voxledger.runtime.broker import NatsAccess, nats_access
from voxledger.runtime.crypto import ensure_master_key, master_key_path
from voxledger.runtime.nats_permissions import server_authorization
from voxledger.runtime.settings import CommonSettings, load_settings
from voxledger.stack import cluster, provision
from voxledger.stack.cluster import NatsCluster
from voxledger.stack.embedded import NatsServer, PostgresServer, free_port
from voxledger.stack.local import StackInfo, write_info
from voxledger.stack.secrets import PG_READER, Secrets

log = structlog.get_logger(__name__)
SERVICES = ("projector", "transcriber", "live", "postproc", "gateway", "webhooks", "keys")
MODULES = {"live": "voxledger.transcriber.live"}  # the rest run as voxledger.<name>
# Each service's NATS identity is the role of its name; only these two get a database at all.
DATABASE_USERS = ("projector", "gateway")
# Restarts of one service while the stack starts: past this, its failure is a fault, not a blip to ride out.
START_RESTARTS = 5


@dataclass
class ServiceProcess:
    name: str
    index: int
    proc: subprocess.Popen
    started_at: float = field(default_factory=time.monotonic)
    restarts: int = 0

    @property
    def label(self) -> str:
        return f"{self.name}-{self.index}"


class Stack:
    """Starts (or joins external) NATS and Postgres, provisions them, and runs the services."""

    def __init__(
        self,
        data_dir: Path,
        *,
        http_port: int | None = None,
        scale: dict[str, int] | None = None,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        nats_url: str | None = None,
        database_url: str | None = None,
        nats_cluster: int = 1,
    ):
        self.data_dir = data_dir.resolve()
        self.run_dir = self.data_dir / "run"
        self.http_port = http_port or free_port()
        self.scale = {name: 1 for name in SERVICES} | (scale or {})
        self.extra_env = env or {}
        self.log_dir = log_dir  # None: services log to this process's stderr
        self.nats: NatsServer | NatsCluster | None = None
        self.nats_cluster = nats_cluster  # embedded nats-servers: 1, or a cluster of that many (stack/cluster.py)
        self.postgres: PostgresServer | None = None
        self.processes: list[ServiceProcess] = []
        # Given URLs mean external servers; otherwise embedded ones are started.
        self.nats_url = nats_url or ""
        self.database_url = database_url or ""  # the schema owner's (projector, provisioning, replay, tests)
        self.reader_database_url = self.database_url  # the gateway's: read-only when the database is embedded
        self.secrets = Secrets(self.data_dir / "secrets")
        self.api_key = ""

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> "Stack":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # The master key that wraps every recording's data key: made at first start, owner-only.
        ensure_master_key(self.master_key_file)
        try:
            if not (self.nats_url and self.database_url):
                self.secrets.ensure()
            if not self.nats_url:
                self.nats = self._start_nats()
                self.nats_url = self.nats.url
            if not self.database_url:
                self.postgres = PostgresServer(self.data_dir / "postgres", self.secrets).start()
                self.database_url, self.reader_database_url = self.postgres.owner_dsn, self.postgres.dsn(PG_READER)
            replicas = load_settings(CommonSettings).stream_replicas
            if isinstance(self.nats, NatsCluster):
                replicas = self.nats.replicas
                asyncio.run(cluster.wait_formed(self.nats_as("provision"), replicas))
            asyncio.run(provision.provision(self.nats_as("provision"), self.database_url, replicas))
            self.api_key = self._dev_key()
            for name in SERVICES:
                for index in range(self.scale.get(name, 0)):
                    self.processes.append(self._spawn(name, index))
            self.wait_ready()
            info = StackInfo(
                nats_url=self.nats_url,
                database_url=self.database_url,
                http_url=self.http_url,
                supervisor_pid=os.getpid(),
            )
            write_info(self.data_dir, info)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_nats(self) -> NatsServer | NatsCluster:
        authorization = server_authorization(self.secrets.public_keys())
        if self.nats_cluster > 1:
            password = cluster.route_password(self.secrets)
            nodes = NatsCluster(self.data_dir, self.run_dir, self.nats_cluster, authorization, password)
            return nodes.start()
        return NatsServer(self.data_dir / "nats", authorization=authorization).start()

    def _dev_key(self) -> str:
        key_file = self.data_dir / "dev-api-key"
        if key_file.exists():
            return key_file.read_text().strip()
        api_key = asyncio.run(provision.issue_key(self.nats_as("keys"), "dev", DEV_KEY_LABEL, "admin"))
        key_file.write_text(api_key + "\n")
        key_file.chmod(0o600)
        return api_key

    def nats_as(self, role: str) -> NatsAccess:
        """How to connect as `role` (runtime/nats_permissions.py): its generated identity on the embedded server;
        on an external one, the identity this process's settings name. Tests connect through this too."""
        if self.nats is not None:
            return self.secrets.nats_access(self.nats_url, role)
        return msgspec.structs.replace(nats_access(load_settings(CommonSettings)), url=self.nats_url)

    @property
    def master_key_file(self) -> Path:
        """The master key that wraps every recording's data key (VOXLEDGER_MASTER_KEY_FILE, else in the data dir)."""
        env = {**os.environ, "VOXLEDGER_DATA_DIR": str(self.data_dir), **self.extra_env}
        return master_key_path(load_settings(CommonSettings, env))

    def service_env(self, name: str) -> dict[str, str]:
        """`name`'s environment: its own NATS identity, and a database only if it uses one, with its own role."""
        env = {
            **os.environ,
            "NATS_URL": self.nats_url,
            "VOXLEDGER_HTTP_PORT": str(self.http_port),
            "VOXLEDGER_DATA_DIR": str(self.data_dir),
            **self.extra_env,
        }
        if self.nats is not None:
            env["VOXLEDGER_NATS_NKEY_SEED_FILE"] = str(self.secrets.nkey_seed_file(name))
        env.pop("DATABASE_URL", None)
        if name in DATABASE_USERS:
            env["DATABASE_URL"] = self.reader_database_url if name == "gateway" else self.database_url
        return env

    def _spawn(self, name: str, index: int) -> ServiceProcess:
        env = self.service_env(name)
        if name in ("transcriber", "live"):
            env.setdefault("VOXLEDGER_WORKER_NAME", f"{name}-{index}")
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = (self.log_dir / f"{name}-{index}.log").open("ab")
            env.setdefault("VOXLEDGER_LOG_FORMAT", "json")
        else:
            out = None
        proc = subprocess.Popen(
            [sys.executable, "-m", MODULES.get(name, f"voxledger.{name}")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
        )
        if out is not None:
            out.close()
        (self.run_dir / f"{name}-{index}.pid").write_text(f"{proc.pid}\n")
        return ServiceProcess(name, index, proc)

    def wait_ready(self, timeout_s: float = 120) -> None:
        """Until the gateway answers ready and every transcriber pulls commands. A transcriber loads its
        model before it pulls; an upload sent earlier would sit unseen, and read as a 404 meanwhile.
        A service that exits meanwhile (a NATS node lost in the middle of its start) is restarted with
        backoff, as later; only one that keeps failing fails the start."""
        deadline = time.monotonic() + timeout_s
        wanted = sum(p.name == "transcriber" for p in self.processes)
        probes = (
            ("the gateway", lambda: _gateway_ready(self.http_url)),
            ("the transcribers", lambda: _transcribers_pulling(self.nats_as("provision"), wanted)),
        )
        for what, ready in probes:
            while not ready():
                self._restart_failed_at_start()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{what} did not get ready within {timeout_s:.0f} s")
                time.sleep(0.1)

    def _restart_failed_at_start(self) -> None:
        for p in self.processes:
            if p.proc.poll() is not None and p.restarts >= START_RESTARTS:
                raise RuntimeError(f"{p.label} exited with {p.proc.returncode} during start, {p.restarts} times over")
        self.supervise_once()

    def supervise_once(self) -> None:
        """Restarts any service that died, with backoff proportional to how often it has crashed."""
        for i, p in enumerate(self.processes):
            if p.proc.poll() is None:
                continue
            if time.monotonic() - p.started_at < min(30.0, 0.5 * 2**p.restarts):
                continue
            log.warning("service.restarting", process=p.label, exit_code=p.proc.returncode, restarts=p.restarts + 1)
            replacement = self._spawn(p.name, p.index)
            replacement.restarts = p.restarts + 1
            self.processes[i] = replacement

    def service(self, name: str, index: int = 0) -> ServiceProcess:
        return next(p for p in self.processes if p.name == name and p.index == index)

    def stop(self) -> None:
        # Webhooks and gateway first (stop taking work), then workers, then the projector, then the servers.
        for p in sorted(self.processes, key=lambda p: SERVICES.index(p.name), reverse=True):
            if p.proc.poll() is None:
                p.proc.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.proc.wait(20)
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait()
            (self.run_dir / f"{p.label}.pid").unlink(missing_ok=True)
        self.processes.clear()
        (self.run_dir / "stack.json").unlink(missing_ok=True)
        for server in (self.postgres, self.nats):
            if server is not None:
                server.stop()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _gateway_ready(http_url: str) -> bool:
    """Serving: ready, or only waiting on the projections (a backlog, a quarantined event), which a
    running stack resolves, not a start that waits."""
    try:
        ready = httpx.get(f"{http_url}/readyz", timeout=1)
        code = ready.json().get("code") if ready.status_code == 503 else None
    except (httpx.HTTPError, ValueError):
        return False
    return ready.status_code == 200 or code in ("projection_lagging", "projection_quarantined")


def _transcribers_pulling(access: NatsAccess, wanted: int) -> bool:
    if not wanted:
        return True
    try:
        return asyncio.run(provision.pulling(access, streams.RECORDING_COMMANDS)) >= wanted
    except (nats.errors.Error, TimeoutError, OSError):  # e.g. an election under way: asked again
        return False
