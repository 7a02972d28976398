"""Fixtures: a real embedded stack (nats-server, PostgreSQL, the services as OS processes, the real model)
on free ports in a temporary directory. Nothing is mocked."""

import pytest

from tests.helpers import new_client
from voxledger.stack.supervisor import Stack

# Served but not loadable: a job naming it must fail permanently in the worker (unknown names never get that far).
BROKEN_MODEL = "broken-model"
SERVED_MODELS = f"tiny.en,{BROKEN_MODEL}=/nonexistent/voxledger-model"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("stack")
    with Stack(data_dir, log_dir=data_dir / "logs", env={"VOXLEDGER_SERVED_MODELS": SERVED_MODELS}) as running:
        yield running


@pytest.fixture
def client(stack, request):
    """A client for a tenant of this test's own, so tests never see each other's data."""
    tenant = request.node.name.replace("[", "-").replace("]", "")[:40].strip("-_")
    with new_client(stack, tenant) as c:
        yield c
