"""Postgres connection pools: jsonb as Python values, uuid as str, so ids stay plain strings everywhere."""

import asyncio

import asyncpg
import msgspec

# The server is down, restarting or refusing connections: retry later; nothing about the query is wrong.
DATABASE_UNAVAILABLE_ERRORS = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InternalClientError,  # a connection reset while the server shut down mid-operation
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=lambda v: msgspec.json.encode(v).decode(), decoder=msgspec.json.decode, schema="pg_catalog"
    )
    await conn.set_type_codec("uuid", encoder=str, decoder=str, schema="pg_catalog", format="text")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, timeout_s: float = 30) -> asyncpg.Pool:
    """Waits for the server to accept connections, so services can start in any order."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
        except (OSError, asyncpg.CannotConnectNowError, asyncpg.InvalidCatalogNameError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
