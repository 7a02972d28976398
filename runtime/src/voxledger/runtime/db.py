"""Postgres connection pools."""

import asyncio

import asyncpg


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, timeout_s: float = 30) -> asyncpg.Pool:
    """Waits for the server to accept connections, so services can start in any order."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
        except (OSError, asyncpg.CannotConnectNowError, asyncpg.InvalidCatalogNameError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
