"""The fuzz suite: marked `fuzz`, and run after every other test.

It shares the session's real stack, and a fuzzer is the most likely test to leave that stack hurt (that is what
it is for), so it goes last: a stalled projection it provokes fails the fuzz suite, not an unrelated test.
"""

import pytest

from tests.helpers import new_client


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz: generated requests and live messages against the real stack (runs last)")


@pytest.hookimpl(trylast=True)  # after any other reordering (unit tests first, say): fuzzing stays last
def pytest_collection_modifyitems(config, items):
    fuzz = [item for item in items if item.get_closest_marker("fuzz")]
    if fuzz:
        items[:] = [item for item in items if not item.get_closest_marker("fuzz")] + fuzz


@pytest.fixture(scope="module")
def fuzz_client(stack, request):
    """A client with a key of a tenant of this module's own: the checks afterwards look at its data only."""
    tenant = "fuzz-" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    with new_client(stack, tenant) as client:
        client.tenant = tenant
        yield client
