"""The embedded stack's credentials, generated at first `voxledger up` into <data dir>/secrets.

- one NATS nkey per role (runtime/nats_permissions.py): the seed stays in `nats-<role>.nk`, the server's
  config holds only the public key, and the client proves itself by signing the server's nonce, so no
  secret crosses the connection and the server config leaks nothing;
- one PostgreSQL password per role: the superuser (roles and the database only), the schema owner
  (projector, provisioning, replay) and the gateway's read-only role.

The directory is 0700 and every file 0600, created with that mode (never chmod-ed after the write).
"""

import os
import secrets
from pathlib import Path

import nkeys

from voxledger.runtime.broker import NatsAccess
from voxledger.runtime.nats_permissions import ROLES

PG_SUPERUSER = "postgres"
PG_OWNER = "voxledger"  # owns the read-model schema: projector, migrations, replay
PG_READER = "voxledger_gateway"  # a login in the group role voxledger_read: SELECT only, the gateway
PG_READ_GROUP = "voxledger_read"  # what the schema owner grants SELECT to (projector/adapters/grants.py)
PG_ROLES = (PG_SUPERUSER, PG_OWNER, PG_READER)


def write_private(path: Path, content: str, *, replace: bool = False) -> None:
    """Creates `path` owner-only (0600) with `content`; an existing file is left as it is unless `replace`."""
    if replace:
        path.unlink(missing_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as f:
        f.write(content)


def new_nkey_seed() -> str:
    return nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER).decode()


class Secrets:
    def __init__(self, directory: Path):
        self.directory = directory

    def ensure(self) -> "Secrets":
        """Generates whatever is missing; what exists is kept, so a restart keeps every identity."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.chmod(0o700)  # also when it existed with a looser mode
        for role in ROLES:
            write_private(self.nkey_seed_file(role), new_nkey_seed() + "\n")
        for role in PG_ROLES:
            write_private(self.pg_password_file(role), secrets.token_hex(24) + "\n")
        return self

    def nkey_seed_file(self, role: str) -> Path:
        return self.directory / f"nats-{role}.nk"

    def public_key(self, role: str) -> str:
        return nkeys.from_seed(bytearray(self.nkey_seed_file(role).read_bytes().strip())).public_key.decode()

    def public_keys(self) -> dict[str, str]:
        return {role: self.public_key(role) for role in ROLES}

    def nats_access(self, url: str, role: str) -> NatsAccess:
        return NatsAccess(url=url, nkey_seed_file=str(self.nkey_seed_file(role)))

    def pg_password_file(self, role: str) -> Path:
        return self.directory / f"pg-{role}.password"

    def pg_password(self, role: str) -> str:
        return self.pg_password_file(role).read_text().strip()
