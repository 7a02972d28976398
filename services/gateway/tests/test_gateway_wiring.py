"""The app's wiring, without a server: every handler's injected parts are known to the DI."""

from voxledger.gateway.app import create_app
from voxledger.gateway.dependencies import PROVIDERS
from voxledger.gateway.settings import GatewaySettings


def test_injected_parts_never_show_as_request_parameters(tmp_path):
    app = create_app(GatewaySettings(metrics_token="t", data_dir=str(tmp_path)))
    schema = app.openapi_schema.to_schema()
    names = {p["name"] for path in schema["paths"].values() for op in path.values() for p in op.get("parameters", [])}
    # A handler parameter the DI does not provide would silently become a query parameter instead.
    assert not names & {*PROVIDERS, "tenant"}, names
    assert all(path.startswith("/v1/") for path in schema["paths"] if path not in ("/healthz", "/readyz", "/metrics"))
