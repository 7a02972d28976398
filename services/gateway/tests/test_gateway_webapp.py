"""The web app as the gateway serves it: a page whose module URLs carry the assets' version, immutable versioned
assets beside the status vocabulary generated from contracts, and nothing at an unversioned path."""

import re

import pytest
from litestar.testing import TestClient

from voxledger.contracts.statuses import JOB_STATUSES, RECORDING_STATUSES
from voxledger.gateway.app import create_app
from voxledger.gateway.settings import GatewaySettings

ASSET_URL = re.compile(r'(?:src|href)="(/app/[^"]+)"')


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # No lifespan (no broker, no database): the app's files need neither.
    app = create_app(GatewaySettings(metrics_token="t", data_dir=str(tmp_path_factory.mktemp("data"))))
    return TestClient(app)


def page_assets(client: TestClient) -> list[str]:
    page = client.get("/")
    assert page.status_code == 200
    return ASSET_URL.findall(page.text)


def test_the_page_is_revalidated_and_names_every_asset_under_one_version(client):
    page = client.get("/")
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assets = page_assets(client)
    versions = {url.split("/")[2] for url in assets}
    assert len(assets) == 3 and len(versions) == 1 and re.fullmatch(r"[0-9a-f]{16}", versions.pop()), assets


def test_every_versioned_asset_is_served_immutable(client):
    for url in page_assets(client):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "immutable" in answer.headers["cache-control"] and "max-age=31536000" in answer.headers["cache-control"]


def test_a_module_imported_relatively_inherits_the_version(client):
    app_js = next(url for url in page_assets(client) if url.endswith("/js/app.js"))
    base = app_js.removesuffix("app.js")
    for name in re.findall(r'from "\./([\w-]+\.js)"', client.get(app_js).text):
        assert client.get(base + name).status_code == 200, name


def test_the_status_vocabulary_is_served_from_contracts(client):
    base = next(url for url in page_assets(client) if url.endswith("/js/app.js")).removesuffix("app.js")
    answer = client.get(base + "vocabulary.js")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/javascript")
    assert "immutable" in answer.headers["cache-control"]
    assert f"export const JOB_STATUSES = Object.freeze({list(JOB_STATUSES)})".replace("'", '"') in answer.text
    assert '"live"' in answer.text and all(f'"{s}"' in answer.text for s in RECORDING_STATUSES)


def test_an_unversioned_or_other_versions_asset_is_not_served(client):
    # An old page after an upgrade must not load the new modules under its old URLs (nor the other way round).
    assert client.get("/app/js/app.js").status_code == 404
    assert client.get("/app/0000000000000000/js/app.js").status_code == 404
    assert client.get("/app/0000000000000000/js/vocabulary.js").status_code == 404
