"""The web app at `/`, its assets, and the API docs' assets: everything served by voxledger itself, nothing from a CDN."""

import importlib.util
from pathlib import Path

from litestar import Response, Router, get
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ASSETS = "/app"
SWAGGER_ASSETS = "/static/swagger-ui"
# A strict policy: the app loads only its own scripts, styles and media, and talks only to this origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; worker-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)


def _swagger_dist() -> Path:
    """Swagger UI's files as the flask-swagger-ui wheel ships them (only its files are used, never Flask)."""
    spec = importlib.util.find_spec("flask_swagger_ui")  # found without importing it (and so without Flask)
    assert spec is not None and spec.submodule_search_locations, "flask-swagger-ui is a dependency of the gateway"
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


@get("/", include_in_schema=False)
async def index() -> Response:
    """The app's one page; each view is a fragment route (`#/recordings/<id>`), so the key never reaches a URL path."""
    return Response(
        (WEB_DIR / "index.html").read_bytes(),
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"},
    )


def asset_routers() -> list[Router]:
    return [
        create_static_files_router(ASSETS, [WEB_DIR], include_in_schema=False),
        create_static_files_router(SWAGGER_ASSETS, [_swagger_dist()], include_in_schema=False),
    ]


def swagger_plugin() -> SwaggerRenderPlugin:
    """The docs at /schema/swagger (and /docs) with Swagger UI from this server."""
    return SwaggerRenderPlugin(
        js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>",
    )
