"""Fixtures: a real embedded stack (nats-server, PostgreSQL, the services as OS processes, the real model)
on free ports in a temporary directory. Nothing is mocked."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from nats.aio.client import Client as Nats

from tests.helpers import api_client, new_client, started_stack
from voxledger.contracts.events import KeyScope
from voxledger.runtime.broker import connect
from voxledger.stack.provision import issue_key
from voxledger.stack.supervisor import Stack

TESTS = Path(__file__).parent


def _stage(item: pytest.Item) -> int:
    """0: pure tests (contracts, services); 1: tests on the shared stack; 2: tests that start a stack of their
    own (other settings, or servers they restart); 3: chaos tests, which kill processes of their own stacks."""
    path = Path(item.path)
    if not path.is_relative_to(TESTS):
        return 0
    if path.is_relative_to(TESTS / "chaos"):
        return 3
    return 1 if "stack" in getattr(item, "fixturenames", ()) else 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast feedback first: a broken domain rule fails in seconds, before any server starts."""
    items.sort(key=_stage)  # stable: file and test order stay as written within a stage


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """The shared stack: default settings, one process per service. Tests keep apart by tenant."""
    with started_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture
def own_stack(tmp_path) -> Iterator[Callable[..., Stack]]:
    """Starts a stack of the test's own: for settings the shared stack lacks, or for processes the test kills.

    `own_stack(scale=..., env=...)` returns it running; its data and logs are under `tmp_path/data`
    (`stack.log_dir`), and it stops when the test ends, pass or fail."""
    with contextlib.ExitStack() as running:

        def start(*, scale: dict[str, int] | None = None, env: dict[str, str] | None = None) -> Stack:
            return running.enter_context(started_stack(tmp_path / "data", scale=scale, env=env))

        yield start


@pytest.fixture
def client(stack, request):
    """A client for a tenant of this test's own, so tests never see each other's data."""
    tenant = request.node.name.replace("[", "-").replace("]", "")[:40].strip("-_")
    with new_client(stack, tenant) as c:
        yield c


@pytest.fixture
async def nats_on() -> AsyncIterator[Callable[..., Awaitable[Nats]]]:
    """`await nats_on(stack, role)`: a NATS connection to that stack (the shared one or a test's own) as `role`;
    every connection it opened closes when the test ends, pass or fail."""
    async with contextlib.AsyncExitStack() as opened:

        async def open_as(on: Stack, role: str = "provision") -> Nats:
            nc = await connect(on.nats_as(role), "test")
            opened.push_async_callback(nc.close)
            return nc

        yield open_as


@pytest.fixture
async def pg_on() -> AsyncIterator[Callable[[str], Awaitable[asyncpg.Connection]]]:
    """`await pg_on(dsn)`: a PostgreSQL connection (`stack.database_url`, say); each closes when the test ends."""
    async with contextlib.AsyncExitStack() as opened:

        async def open_at(dsn: str) -> asyncpg.Connection:
            conn = await asyncpg.connect(dsn)
            opened.push_async_callback(conn.close)
            return conn

        yield open_at


@pytest.fixture
async def nc(stack, nats_on) -> Nats:
    """A NATS connection to the shared stack with the provisioner's rights (it may read every stream)."""
    return await nats_on(stack)


@pytest.fixture
async def client_on() -> AsyncIterator[Callable[..., Awaitable[httpx.Client]]]:
    """`await client_on(stack, tenant, scope)`: for an async test, a client with a fresh API key (as `new_client`);
    each closes when the test ends."""
    with contextlib.ExitStack() as opened:

        async def open_for(on: Stack, tenant: str, scope: KeyScope = "admin") -> httpx.Client:
            api_key = await issue_key(on.nats_as("keys"), tenant, "test", scope)
            return opened.enter_context(api_client(on, api_key))

        yield open_for
