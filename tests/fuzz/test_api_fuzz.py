"""Schemathesis against the real stack: every operation, then chains of linked requests, then the aftermath.

The stack is the session's real one (nats-server, PostgreSQL, the transcriber with the tiny.en model, postproc,
the projector and the gateway over HTTP). Requests carry a real key of a tenant of this module's own; a 2xx of
an operation that needs the key is sent again without it and with a wrong one until that operation refused
both (schemathesis' `ignored_auth`), and one test sends each operation with no key or a wrong one. Uploads carry the audio fixtures. Each answer is checked: no 5xx, and
status, content type, headers and body (problem+json too) as the OpenAPI document says. The chains follow the
document's links, so generated requests reach real recordings and jobs instead of 404s. Afterwards the tenant's
jobs have all ended, every projection has caught up with the log, nothing was quarantined, and no service
logged an error.
"""

import os
import time
from collections import Counter, defaultdict

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.settle import (
    ErrorLogWatch,
    assert_nothing_quarantined,
    assert_projections_caught_up,
    wait_queue_drained,
)
from tests.helpers import AUDIO, stack_env
from voxledger.gateway.app import create_app
from voxledger.gateway.openapi_document import complete_document
from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.settings import load_settings

pytestmark = pytest.mark.fuzz

# The upload's `file` part is real audio, a cut-off file, or bytes that only claim to be audio (the gateway
# sniffs them and answers 415). Short files: every accepted upload is really transcribed.
AUDIO_OGG = (AUDIO / "short_meeting.ogg").read_bytes()
schemathesis.openapi.media_type("audio/ogg", st.just(AUDIO_OGG))
schemathesis.openapi.media_type(
    "audio/wav", st.sampled_from([(AUDIO / name).read_bytes() for name in ("short_meeting.wav", "truncated.wav")])
)
schemathesis.openapi.media_type("audio/mpeg", st.just((AUDIO / "not_audio.bin").read_bytes()))

# Hostile bodies schemathesis cannot draw from a schema: JSON nested far past the gateway's depth bound, and a
# multipart boundary longer than the parser takes (RFC 2046 allows 70 characters). Each operation with such a body
# gets them among its generated cases, and must refuse them with a 400 and its code, as any other input.
DEEP_JSON = b"[" * 10_000 + b"]" * 10_000
LONG_BOUNDARY = "b" * 300
HOSTILE_CODES = {"application/json": "json_too_deep", "multipart/form-data": "malformed_multipart"}


def _hostile(case):
    """The case with a hostile body for its media type (None: it has no body such a case fits). A new case, not a
    copy: the generated one may be a negative case whose metadata drops the key from the request."""
    if case.media_type == "application/json":
        body, headers = DEEP_JSON, {}
    elif case.media_type == "multipart/form-data":
        part = b'Content-Disposition: form-data; name="file"; filename="a.ogg"\r\n\r\n'
        boundary = LONG_BOUNDARY.encode()
        body = b"".join([b"--", boundary, b"\r\n", part, AUDIO_OGG, b"\r\n--", boundary, b"--\r\n"])
        headers = {"Content-Type": f"multipart/form-data; boundary={LONG_BOUNDARY}"}
    else:
        return None
    return case.operation.Case(
        path_parameters=dict(case.path_parameters or {}), headers=headers, body=body, media_type=case.media_type
    )


def hostile_code(case) -> str | None:
    """The code a hostile case must be refused with; None for any other case."""
    if case.body is DEEP_JSON or (case.headers or {}).get("Content-Type", "").endswith(LONG_BOUNDARY):
        return HOSTILE_CODES[case.media_type]
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ENFORCED: set[str] = set()  # the operations shown to refuse a missing and a wrong key, in this session
HOSTILE_FIT: set[str] = set()  # the operations fuzzed in this session with a JSON or multipart body
HOSTILE_SENT: set[str] = set()  # those that were sent a hostile one


def ignored_auth_once(ctx, response, case):
    """schemathesis' `ignored_auth` as its own runner runs it: a 2xx with the key is sent again without it and
    with a wrong one, until the operation refused both once (enforcement is the operation's, not the input's).
    Run from pytest, the check has no such memory and sends two more requests for every 2xx."""
    ctx.auth_enforced_operations = ENFORCED
    return ignored_auth(ctx, response, case)


# Not `use_after_free`: reads are eventually consistent by design, so a GET right after a DELETE's 202 may still
# see the recording for a moment (a client that must not passes the 202's consistency token; the check does not).
STATEFUL_CHECKS = [*CHECKS, ignored_auth_once, ensure_resource_availability]
REQUEST_S = 30
# An event stream never ends: judge it by its first event (every recording has one), or time out as a stall.
STREAM_EVENTS = 1
REFUSAL_S = 1.5  # the key is checked before any work, so a refusal comes at once (a loaded machine included)
# Scenarios run in batches until SCENARIOS or the budget: a step may wait on purpose (a `min_seq` read waits up to
# VOXLEDGER_CONSISTENCY_WAIT_S for its write), so the budget, not the count, bounds the time in CI.
SCENARIOS, SCENARIO_STEPS, STATEFUL_BUDGET_S, BATCH, AT_LEAST = 60, 10, 100, 10, 20


def _document() -> dict:
    """The gateway's document, built here at collection (it needs no server), so that schemathesis parametrizes
    the test as pytest collects it: its loader from a fixture needs a pytest internal that pytest 9.2 dropped.
    A test below checks that the running gateway serves exactly this document."""
    app = create_app(load_settings(GatewaySettings, {**os.environ, **stack_env()}))  # as the stack's gateway reads it
    complete_document(app)
    return app.openapi_schema.to_schema()


DOCUMENT = _document()
OPERATIONS = [f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item]
LINKS = sum(
    len(response.get("links", {}))
    for item in DOCUMENT["paths"].values()
    for operation in item.values()
    for response in operation.get("responses", {}).values()
)
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.max_stream_events = STREAM_EVENTS


@schema.hook
def flatmap_case(ctx, case):
    """Some generated cases of an operation with a JSON or multipart body are hostile ones (the first among them:
    Hypothesis draws 0 first and often)."""
    hostile = _hostile(case)
    return st.just(case) if hostile is None else st.integers(0, 19).map(lambda i: hostile if i == 0 else case)


@pytest.fixture(scope="module")
def api_schema(stack):
    """The document as the running gateway serves it."""
    served = schemathesis.openapi.from_url(f"{stack.http_url}/schema/openapi.json")
    served.config.max_stream_events = STREAM_EVENTS
    return served


@pytest.fixture(scope="module")
def log_watch(stack):
    return ErrorLogWatch(stack)


def key_of(client) -> dict[str, str]:
    return {"Authorization": client.headers["Authorization"]}


def test_the_running_gateway_serves_the_document_fuzzed_here(stack, log_watch):
    served = httpx.get(f"{stack.http_url}/schema/openapi.json", timeout=REQUEST_S)
    assert served.status_code == 200 and served.json() == DOCUMENT


# Schemathesis' phases: the document's examples, then its coverage cases (boundaries, missing and wrong-typed
# values, edge strings), then random valid and invalid requests. Not `positive_data_acceptance` and
# `negative_data_rejection`: ids and cursors are opaque, so a well-formed one that names nothing is rightly
# refused, and those checks would judge the document's precision rather than the service.
# Random examples go where inputs are many: an operation with a body (JSON or a form) or with several query
# filters gets RICH; one that takes only ids in its path, pagination or `min_seq` gets FEW, as its coverage cases
# already send each of those few inputs at its boundaries, wrongly typed and missing.
RICH, FEW = 40, 10


def rich_inputs(ctx) -> bool:
    definition = ctx.operation.definition.raw
    queries = [p for p in definition.get("parameters", []) if p.get("in") == "query"]
    return "requestBody" in definition or len(queries) > 3


def answers_as_documented(case, stack, fuzz_client) -> None:
    response = case.call(base_url=stack.http_url, headers=key_of(fuzz_client), timeout=REQUEST_S)
    case.validate_response(response, checks=[*CHECKS, ignored_auth_once])
    if case.media_type in HOSTILE_CODES:
        HOSTILE_FIT.add(case.operation.label)
    if (code := hostile_code(case)) is not None:
        HOSTILE_SENT.add(case.operation.label)
        assert (response.status_code, response.json().get("code")) == (400, code), response.text[:300]


@settings(max_examples=RICH, deadline=None, derandomize=True, database=None)
@schema.include(rich_inputs).parametrize()
def test_every_operation_with_many_inputs_answers_generated_requests_as_documented(case, stack, fuzz_client, log_watch):
    answers_as_documented(case, stack, fuzz_client)


@settings(max_examples=FEW, deadline=None, derandomize=True, database=None)
@schema.exclude(rich_inputs).parametrize()
def test_every_operation_with_few_inputs_answers_generated_requests_as_documented(case, stack, fuzz_client, log_watch):
    answers_as_documented(case, stack, fuzz_client)


def test_every_operation_with_a_json_or_multipart_body_was_sent_a_hostile_one():
    """The per-operation runs above (as far as this session ran them) included the hostile bodies."""
    assert HOSTILE_FIT <= HOSTILE_SENT, f"never sent a hostile body: {sorted(HOSTILE_FIT - HOSTILE_SENT)}"


def cases(api_schema, label: str) -> st.SearchStrategy:
    """Valid requests and ones that break the document on purpose (schemathesis' positive and negative modes)."""
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, f"the served document lacks {label}"
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))


def test_generated_uploads_are_accepted_so_that_the_chains_start_from_real_ids(api_schema, fuzz_client):
    """The document says what an upload may be precisely enough that what is generated from it is accepted
    (a model the deployment serves, not any string): the links from its 202 lead the stateful phase on. Only the
    bytes registered above as not audio are refused (415), on purpose."""
    operation = api_schema.find_operation_by_label("POST /v1/recordings")
    served = fuzz_client.get("/v1/models").json()
    languages = {m["name"]: m["languages"] for m in served["items"]}

    def unsupported(fields: dict) -> bool:
        """A language its model cannot transcribe (de on tiny.en): a rule across two fields, as the bounds are."""
        spoken = languages[fields.get("model") or served["default"]]
        return spoken is not None and fields.get("language", "").lower() not in spoken

    @settings(max_examples=15, deadline=None, derandomize=True, database=None)
    @given(case=operation.as_strategy(GenerationMode.POSITIVE))
    def accepted(case):
        # A generated Idempotency-Key recurs with another body: a documented 409, which is not at issue here.
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "idempotency-key"}
        response = case.call(headers=key_of(fuzz_client), timeout=REQUEST_S)
        fields = {k: v for k, v in (case.body or {}).items() if k != "file"}
        code = None if response.status_code == 202 else response.json().get("code")
        # Refused on purpose: bytes that are no audio, a bound above the other one, a language its model lacks
        # (no schema can say either rule across fields).
        crossed = int(fields.get("min_speakers", 0)) > int(fields.get("max_speakers", 99))
        refused = (code == "invalid_speakers" and crossed) or (code == "unsupported_language" and unsupported(fields))
        assert code in (None, "unsupported_media_type") or refused, (
            fields,
            response.status_code,
            response.text[:300],
        )

    accepted()


@pytest.mark.parametrize("label", OPERATIONS)
def test_without_a_valid_key_every_private_operation_is_refused_at_once(api_schema, label):
    public = api_schema.find_operation_by_label(label).definition.raw.get("security") == []

    @settings(max_examples=3, deadline=None, derandomize=True, database=None)
    @given(
        case=cases(api_schema, label),
        headers=st.sampled_from([{}, {"Authorization": "Bearer vl_not-a-key"}, {"Authorization": "Basic eDp5"}]),
    )
    def refused(case, headers):
        response = case.call(headers=headers, timeout=REQUEST_S)
        case.validate_response(response, checks=CHECKS)
        if not public:
            assert response.status_code == 401, (headers, response.status_code, response.text[:200])
            # The audio route's generated `link` is checked instead of the key: a made-up one is refused as such.
            codes = ("unauthorized", "invalid_api_key", "invalid_audio_link")
            assert response.json()["code"] in codes, response.text[:200]
            assert response.elapsed < REFUSAL_S, (
                f"{case.method} {case.formatted_path}: 401 after {response.elapsed:.2f} s"
            )

    refused()


def problem_code(response) -> str:
    try:
        return str(response.json().get("code", "")) if response.status_code >= 400 else ""
    except ValueError:
        return ""


def own_key_id(client) -> str:
    secret = client.headers["Authorization"].removeprefix("Bearer ")
    listed = client.get("/v1/keys", params={"limit": 100}).json()["items"]
    return next(k["id"] for k in listed if secret.startswith(k["prefix"]))


def spare_key_id(client) -> str:
    made = client.post("/v1/keys", json={"label": "fuzz spare", "scope": "read"})
    assert made.status_code == 202, made.text
    return made.json()["id"]


def test_chains_of_linked_requests_answer_as_documented(api_schema, fuzz_client, log_watch):
    """Stateful: each scenario starts anywhere and follows the document's links through real ids."""
    found: list[str] = []
    scenarios = [0]
    followed: set[str] = (
        set()
    )  # the links a step took (its request made from an earlier response), as schemathesis counts
    answered: dict[str, Counter[str]] = defaultdict(Counter)  # operation -> status class -> steps

    own, spare = own_key_id(fuzz_client), spare_key_id(fuzz_client)

    class Chains(api_schema.as_state_machine()):
        def setup(self):
            scenarios[0] += 1

        def get_call_kwargs(self, case):
            # A link from the key list may name the chains' own key: revoking or rotating that would answer every
            # later step 401. The spare key takes its place (its own revocation or rotation ends nothing).
            if (case.path_parameters or {}).get("key_id") == own:
                case.path_parameters["key_id"] = spare
            return {"headers": key_of(fuzz_client), "timeout": REQUEST_S}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            followed.update(c.transition.id for c in self.recorder.cases.values() if c.is_transition_applied)
            answered[case.operation.label][f"{response.status_code} {problem_code(response)}"] += 1
            try:
                case.validate_response(
                    response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
                )
            except FailureGroup as failure:
                found.append(
                    f"{case.method} {case.formatted_path} query={case.query} body={case.body!r:.300}: {failure}"
                )
                raise

    deadline = time.monotonic() + STATEFUL_BUDGET_S
    while scenarios[0] < SCENARIOS and time.monotonic() < deadline:
        try:
            run_state_machine_as_test(
                Chains,
                settings=settings(
                    max_examples=min(BATCH, SCENARIOS - scenarios[0]),
                    stateful_step_count=SCENARIO_STEPS,
                    deadline=None,
                    database=None,
                    # Only generation: replaying or shrinking a scenario against a server whose state moved on
                    # chooses other links (schemathesis' own runner does the same).
                    phases=[Phase.generate],
                    # The live server's answers decide which links a step may follow, and the time goes into
                    # HTTP calls, not generation: these checks judge data generation, which is not at issue here.
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                ),
            )
        except FlakyStrategyDefinition:
            # The same reason: a choice that led to one link before meets another answer now. That says nothing
            # about the API; go on with fresh scenarios, as schemathesis' own runner does. Failures are in `found`.
            continue
    print(f"stateful: {scenarios[0]} scenarios followed {len(followed)} links: {sorted(followed)}")
    print("stateful answers:", {label: dict(counts) for label, counts in sorted(answered.items())})
    assert not found, "\n\n".join(found)
    assert scenarios[0] >= AT_LEAST, f"only {scenarios[0]} scenarios ran within {STATEFUL_BUDGET_S} s"


async def test_afterwards_jobs_ended_projections_caught_up_nothing_quarantined_and_no_error_logged(
    stack, fuzz_client, log_watch, nc, pg_on, client_on
):
    # With a key issued now: the fuzzer holds an admin key and may have revoked or rotated its own.
    wait_queue_drained(await client_on(stack, fuzz_client.tenant))
    db = await pg_on(stack.database_url)
    await assert_projections_caught_up(nc, db)
    assert log_watch.errors() == []
    await assert_nothing_quarantined(db, [fuzz_client.tenant])
