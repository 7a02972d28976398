"""Read access for the gateway: the group role `voxledger_read` may SELECT every read-model table, and nothing else.

Granted on every migrate (idempotent), with default privileges, so the tables later migrations create and
the shadow tables a replay builds and swaps in (created by this same owner role) are readable at once.
The login role the gateway uses is a member of `voxledger_read`; whoever sets the database up creates
both (the embedded stack does; see deploy/README.md).
"""

import asyncpg
import structlog

READ_ROLE = "voxledger_read"
log = structlog.get_logger(__name__)


async def grant_read(conn: asyncpg.Connection) -> bool:
    """In the caller's transaction; False when the read role does not exist (then nobody reads but the owner)."""
    if not await conn.fetchval("SELECT true FROM pg_roles WHERE rolname = $1", READ_ROLE):
        log.warning("schema.read_role_missing", role=READ_ROLE)
        return False
    await conn.execute(f"GRANT USAGE ON SCHEMA public TO {READ_ROLE}")
    await conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READ_ROLE}")
    await conn.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {READ_ROLE}")
    return True
