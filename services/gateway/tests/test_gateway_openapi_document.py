"""The served OpenAPI document: links between operations, problem responses, the upload body, public operations.

Built from the real app, without its servers: the document needs no connection.
"""

import pytest

from voxledger.gateway.app import create_app
from voxledger.gateway.openapi_document import complete_document
from voxledger.gateway.settings import GatewaySettings


@pytest.fixture(scope="module")
def document() -> dict:
    app = create_app(GatewaySettings())
    complete_document(app)
    return app.openapi_schema.to_schema()


def operation_ids(document: dict) -> dict[tuple[str, str], str]:
    return {(m, p): op["operationId"] for p, item in document["paths"].items() for m, op in item.items()}


def test_an_upload_links_to_every_operation_on_its_recording_and_job(document):
    ids = operation_ids(document)
    links = document["paths"]["/v1/recordings"]["post"]["responses"]["202"]["links"]
    recording_ops = {ids[k] for k in ids if "{recording_id}" in k[1]}
    job_ops = {ids[k] for k in ids if "{job_id}" in k[1]}
    assert set(links) == recording_ops | job_ops
    assert links[ids[("get", "/v1/jobs/{job_id}")]]["parameters"] == {"path.job_id": "$response.body#/job_id"}
    get_recording = links[ids[("get", "/v1/recordings/{recording_id}")]]
    assert get_recording == {
        "operationId": ids[("get", "/v1/recordings/{recording_id}")],
        "parameters": {"path.recording_id": "$response.body#/recording_id"},
    }


def test_a_list_links_its_first_item_to_the_item_operations(document):
    ids = operation_ids(document)
    links = document["paths"]["/v1/jobs"]["get"]["responses"]["200"]["links"]
    assert links[ids[("post", "/v1/jobs/{job_id}/cancel")]]["parameters"] == {
        "path.job_id": "$response.body#/items/0/job_id"
    }
    sessions = document["paths"]["/v1/live/sessions"]["get"]["responses"]["200"]["links"]
    assert sessions[ids[("get", "/v1/live/sessions/{session_id}")]]["parameters"] == {
        "path.session_id": "$response.body#/items/0/session_id"
    }


def test_every_link_names_a_documented_operation_and_fills_all_its_path_parameters(document):
    by_id = {op["operationId"]: (p, op) for p, item in document["paths"].items() for op in item.values()}
    found = 0
    for item in document["paths"].values():
        for op in item.values():
            for response in op["responses"].values():
                for link in response.get("links", {}).values():
                    path, target = by_id[link["operationId"]]
                    params = {f"{p['in']}.{p['name']}" for p in target.get("parameters", [])}
                    needed = {p for p in params if p.startswith("path.")}
                    assert needed <= set(link["parameters"]) <= params, (path, link)
                    found += 1
    assert found > 50


def test_a_list_links_to_its_next_page_and_a_deliveries_list_to_its_redelivery(document):
    recordings = document["paths"]["/v1/recordings"]["get"]["responses"]["200"]["links"]
    assert {"query.cursor": "$response.body#/next_cursor"} in [link["parameters"] for link in recordings.values()]
    deliveries = document["paths"]["/v1/webhooks/{endpoint_id}/deliveries"]["get"]["responses"]["200"]["links"]
    redeliver = next(link for link in deliveries.values() if "delivery_id" in str(link["parameters"]))
    assert redeliver["parameters"]["path.endpoint_id"] == "$request.path.endpoint_id"


def test_a_request_body_that_refuses_unknown_fields_says_so(document):
    schemas = document["components"]["schemas"]
    for name in ("KeyCreate", "TranscriptionRequest", "WebhookCreate", "TenantSettings", "SpeakerNamesRequest"):
        assert schemas[name]["additionalProperties"] is False, name


def test_every_operation_documents_problem_json_for_its_other_statuses(document):
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "code"]
    for path, item in document["paths"].items():
        for method, op in item.items():
            default = op["responses"]["default"]["content"]
            assert default == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            for status, response in op["responses"].items():
                for media in response.get("content", {}).values():
                    assert "status_code" not in media.get("schema", {}).get("properties", {}), (method, path, status)


def test_the_upload_documents_its_multipart_body_and_the_renderings_their_media(document):
    body = document["paths"]["/v1/recordings"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert body["schema"]["required"] == ["file"] and body["schema"]["properties"]["file"]["format"] == "binary"
    assert "audio/ogg" in body["encoding"]["file"]["contentType"]
    events = document["paths"]["/v1/recordings/{recording_id}/events"]["get"]["responses"]["200"]["content"]
    assert set(events) == {"text/event-stream"}
    transcript = document["paths"]["/v1/recordings/{recording_id}/transcript"]["get"]["responses"]["200"]["content"]
    assert set(transcript) == {"application/json", "text/plain", "application/x-subrip", "text/vtt"}


def test_health_is_public_and_every_v1_operation_needs_the_bearer_key(document):
    assert document["security"] == [{"BearerAuth": []}]
    assert document["paths"]["/healthz"]["get"]["security"] == []
    assert document["paths"]["/readyz"]["get"]["security"] == []
    for path, item in document["paths"].items():
        for method, op in item.items():
            if path.startswith("/v1/"):
                assert "security" not in op, (method, path)  # the global bearer requirement applies


def test_every_operation_sits_under_one_declared_resource_tag(document):
    declared = {tag["name"] for tag in document["tags"]}
    used = [op.get("tags", []) for path in document["paths"].values() for op in path.values()]
    assert all(len(tags) == 1 and tags[0] in declared for tags in used), used
    assert {tags[0] for tags in used} == declared
    assert "WS /v1/live" in document["info"]["description"]  # no WebSocket operation exists to describe it


def test_min_seq_is_documented_on_the_reads_that_honour_it_and_nowhere_else(document):
    with_min_seq = {
        (method, path)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if any(p["name"] == "min_seq" and p["in"] == "query" for p in op.get("parameters", []))
    }
    assert {method for method, _ in with_min_seq} == {"get"}
    assert len(with_min_seq) == 13
    assert ("get", "/v1/recordings/{recording_id}/transcript") in with_min_seq
    assert ("get", "/v1/webhooks/{endpoint_id}/deliveries") in with_min_seq
