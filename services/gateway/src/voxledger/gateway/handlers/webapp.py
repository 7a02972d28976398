"""The web app at `/`, its assets, and the API docs' assets: everything served by voxledger itself, nothing from a CDN.

The app's files are served under a versioned path, `/app/<version>/...`, the version a digest of their content:
the page names it in its module URLs, and every relative `import` inherits it, so a browser never mixes an old
module with a new one after an upgrade. A versioned file never changes, so it is cached as immutable; the page
itself is revalidated on every load.
"""

import functools
import hashlib
import importlib.util
from pathlib import Path

from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from voxledger.gateway import web_vocabulary

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ASSETS = "/app"
ASSETS_PLACEHOLDER = "{{assets}}"  # in index.html: where the versioned path goes
IMMUTABLE = CacheControlHeader(public=True, max_age=365 * 24 * 3600, immutable=True)
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


@functools.cache
def asset_version() -> str:
    """A digest of every file the app loads, the generated vocabulary included: it changes with any of them."""
    digest = hashlib.sha256(web_vocabulary.module_source().encode())
    for path in sorted(p for p in WEB_DIR.rglob("*") if p.is_file()):
        digest.update(path.relative_to(WEB_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def versioned_assets() -> str:
    return f"{ASSETS}/{asset_version()}"


@functools.cache
def _page() -> bytes:
    return (WEB_DIR / "index.html").read_text().replace(ASSETS_PLACEHOLDER, versioned_assets()).encode()


@get("/", include_in_schema=False)
async def index() -> Response:
    """The app's one page; each view is a fragment route (`#/recordings/<id>`), so the key never reaches a URL path."""
    return Response(
        _page(),
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"},
    )


def _vocabulary() -> HTTPRouteHandler:
    """The status vocabulary module (web_vocabulary), beside the app's modules so they import it as `./vocabulary.js`."""

    @get(
        f"{versioned_assets()}/js/vocabulary.js", include_in_schema=False, cache_control=IMMUTABLE, sync_to_thread=False
    )
    def vocabulary() -> Response:
        return Response(web_vocabulary.module_source(), media_type="text/javascript; charset=utf-8")

    return vocabulary


def asset_routers() -> list[Router | HTTPRouteHandler]:
    return [
        _vocabulary(),
        create_static_files_router(versioned_assets(), [WEB_DIR], include_in_schema=False, cache_control=IMMUTABLE),
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
