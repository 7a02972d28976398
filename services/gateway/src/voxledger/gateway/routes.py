"""The routes and how the OpenAPI document groups them: one router per resource, each under its own tag.

Every `/v1` HTTP route names the least scope it needs in its `opt` and is guarded by `needs_scope`, after
`auth_guard` (a middleware) has checked the key. The reads that honour `?min_seq=` (http/consistency.py) get it
from their router, so it is declared and documented once, here. The live WebSocket authenticates itself (its key
may come in a first message), so it stands outside the guarded routers; OpenAPI has no WebSocket operations, so
the document's description and the `live` tag describe it instead.
"""

from collections.abc import Sequence

from litestar import Router
from litestar.openapi.spec import Tag
from litestar.types import ControllerRouterHandler

from voxledger.contracts.events import KeyScope
from voxledger.gateway.handlers import (
    ask,
    audio,
    deepgram,
    deletion,
    events,
    health,
    insights,
    jobs,
    keys,
    library,
    live,
    live_sessions,
    models,
    openai,
    recordings,
    search,
    speakers,
    webhooks,
)
from voxledger.gateway.handlers import settings as settings_routes
from voxledger.gateway.http.auth import needs_scope
from voxledger.gateway.http.params import MIN_SEQ

READ_YOUR_WRITES = {"min_seq": MIN_SEQ}

LIVE_SOCKET = (
    "`WS /v1/live` (not an OpenAPI operation: OpenAPI describes no WebSockets) streams audio in and interim and "
    "final segments out. Authenticate with `Authorization: Bearer <key>` or a first message "
    '`{"type": "auth", "api_key": "..."}`; a `read` key is refused. Then `{"type": "start", "sample_rate": 16000, '
    '"encoding": "pcm_s16le"}`, binary audio frames and `{"type": "stop"}`; the server answers `ready`, `interim`, '
    "`final`, `error` and `ended`. An ended session is a recording; see `/v1/live/sessions` and the docs' "
    "Live transcription page."
)
TAGS = [
    Tag(name="recordings", description="Upload recordings, name, tag and file them, read their transcripts"),
    Tag(name="speakers", description="Diarize a recording and name its speakers"),
    Tag(name="insights", description="Post-processing: refined text, analytics, action items, summary"),
    Tag(name="audio", description="A recording's audio, and links to it that need no key"),
    Tag(name="search", description="Search the tenant's transcripts by words and by meaning, and ask them questions"),
    Tag(name="jobs", description="Transcription jobs and the tenant's queue"),
    Tag(name="live", description="Live sessions. " + LIVE_SOCKET),
    Tag(name="events", description="Server-sent events of all the tenant's recordings"),
    Tag(name="models", description="The models this deployment serves"),
    Tag(name="openai", description="OpenAI's audio API, for OpenAI's clients"),
    Tag(name="deepgram", description="Deepgram's listen API (pre-recorded here; live on `WS /v1/listen`)"),
    Tag(name="webhooks", description="Webhook endpoints and their deliveries (admin keys)"),
    Tag(name="keys", description="API keys (admin keys)"),
    Tag(name="settings", description="The tenant's settings (admin keys)"),
    Tag(name="health", description="Liveness, readiness and metrics; no API key"),
]


def resource(
    tag: str,
    handlers: Sequence[ControllerRouterHandler],
    reads: Sequence[ControllerRouterHandler] = (),
    scope: KeyScope = "member",
) -> Router:
    """A resource's routes under its tag, each guarded by the scope its `opt` names; `reads` also take `?min_seq=`.
    `scope` is the router's: what Litestar's own `OPTIONS` answers (which name none) need; a route's own wins."""
    routes = [*handlers]
    if reads:
        routes.append(Router("/", parameters=READ_YOUR_WRITES, route_handlers=list(reads)))
    return Router("/", tags=[tag], guards=[needs_scope], opt={"scope": scope}, route_handlers=routes)


def v1_router() -> Router:
    """The public API: every route needs an API key, checked before anything else (http/auth.py)."""
    return Router(
        "/v1",
        route_handlers=[
            resource(
                "recordings",
                [
                    recordings.upload_recording,
                    recordings.request_transcription,
                    recordings.recording_events,
                    library.describe_recording,
                    deletion.delete_recording,
                ],
                reads=[
                    recordings.list_recordings,
                    library.export_recordings,
                    recordings.get_recording,
                    recordings.get_transcript,
                ],
            ),
            resource("speakers", [speakers.name_speakers, speakers.request_diarization]),
            resource("insights", [insights.request_insights], reads=[insights.get_insights]),
            resource("audio", [audio.get_audio, audio.create_audio_link]),
            resource("search", [search.search_transcripts, ask.ask]),
            resource("jobs", [jobs.cancel_job, jobs.get_queue], reads=[jobs.list_jobs, jobs.get_job]),
            resource("live", [], reads=[live_sessions.list_live_sessions, live_sessions.get_live_session]),
            live.live_socket,
            deepgram.deepgram_socket,
            resource("events", [events.tenant_events]),
            resource("models", [models.list_models, models.get_model]),
            resource("openai", [openai.create_transcription, openai.create_translation]),
            resource("deepgram", [deepgram.transcribe_prerecorded]),
            resource(
                "webhooks",
                [
                    webhooks.create_webhook,
                    webhooks.update_webhook,
                    webhooks.delete_webhook,
                    webhooks.send_test_webhook,
                    webhooks.rotate_webhook_secret,
                    webhooks.redeliver_webhook,
                ],
                reads=[webhooks.list_webhooks, webhooks.get_webhook, webhooks.list_webhook_deliveries],
                scope="admin",
            ),
            resource(
                "keys", [keys.create_key, keys.revoke_key, keys.rotate_key], reads=[keys.list_keys], scope="admin"
            ),
            resource("settings", [settings_routes.get_settings, settings_routes.put_settings], scope="admin"),
        ],
    )


def health_router() -> Router:
    """Liveness, readiness and metrics: served without a key."""
    return Router("/", tags=["health"], route_handlers=[health.healthz, health.readyz, health.metrics])
