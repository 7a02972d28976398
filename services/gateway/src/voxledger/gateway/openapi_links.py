"""OpenAPI links: where each create or list response's ids lead.

Litestar generates the operations from the route handlers but knows nothing of how they relate. These links
say that the `recording_id` of an upload's 202 (or of the first item of a list) is the path parameter of every
recording operation, and so on, so that a client generator or a stateful fuzzer can follow real ids from one
response into the next request instead of guessing them. They are added once to the generated document.
"""

from litestar.openapi.spec import Link, OpenAPI, OpenAPIResponse, Operation, Parameter, Reference

METHODS = ("get", "put", "post", "delete", "patch")
RECORDING = "/v1/recordings/{recording_id}"
JOB = "/v1/jobs/{job_id}"
WEBHOOK = "/v1/webhooks/{endpoint_id}"

# (method, path, status) of a response -> the JSON pointer of each id it carries (or a runtime expression).
SOURCES: dict[tuple[str, str, str], dict[str, str]] = {
    ("post", "/v1/recordings", "202"): {"recording_id": "/recording_id", "job_id": "/job_id"},
    ("post", f"{RECORDING}/transcriptions", "202"): {"recording_id": "/recording_id", "job_id": "/job_id"},
    ("post", f"{RECORDING}/insights", "202"): {"recording_id": "/recording_id", "job_id": "/job_id"},
    ("delete", RECORDING, "202"): {"recording_id": "/recording_id"},
    ("post", f"{JOB}/cancel", "202"): {"recording_id": "/recording_id", "job_id": "/job_id"},
    ("get", RECORDING, "200"): {"job_id": "/latest_job_id"},
    ("get", JOB, "200"): {"recording_id": "/recording_id"},
    ("get", "/v1/recordings", "200"): {"recording_id": "/items/0/recording_id", "job_id": "/items/0/latest_job_id"},
    ("get", "/v1/jobs", "200"): {"recording_id": "/items/0/recording_id", "job_id": "/items/0/job_id"},
    ("get", "/v1/queue", "200"): {"job_id": "/items/0/job_id"},
    ("get", "/v1/search", "200"): {"recording_id": "/items/0/recording_id", "job_id": "/items/0/job_id"},
    ("post", "/v1/webhooks", "202"): {"endpoint_id": "/endpoint_id"},
    ("get", "/v1/webhooks", "200"): {"endpoint_id": "/items/0/endpoint_id"},
    ("post", f"{WEBHOOK}/test", "202"): {"endpoint_id": "/endpoint_id"},
    # A delivery's row does not repeat its endpoint: that is the listed endpoint, from the request's path.
    ("get", f"{WEBHOOK}/deliveries", "200"): {
        "endpoint_id": "$request.path.endpoint_id",
        "delivery_id": "/items/0/delivery_id",
    },
    (
        "post",
        f"{WEBHOOK}/deliveries/{{delivery_id}}/redeliver",
        "202",
    ): {"endpoint_id": "/endpoint_id", "delivery_id": "/delivery_id"},
    # A key made (or rotated) here, never the caller's own from the list: revoking that would end the session.
    ("post", "/v1/keys", "202"): {"key_id": "/id"},
    ("post", "/v1/keys/{key_id}/rotate", "202"): {"key_id": "/id"},
    ("get", "/v1/live/sessions", "200"): {
        "session_id": "/items/0/session_id",
        "recording_id": "/items/0/recording_id",
        "job_id": "/items/0/job_id",
    },
}


def operations(openapi: OpenAPI) -> dict[tuple[str, str], Operation]:
    found = {}
    for path, item in (openapi.paths or {}).items():
        for method in METHODS:
            if (operation := getattr(item, method, None)) is not None:
                found[(method, path)] = operation
    return found


def _path_parameters(operation: Operation) -> set[str]:
    return {p.name for p in operation.parameters or () if isinstance(p, Parameter) and p.param_in == "path"}


def add_links(openapi: OpenAPI) -> OpenAPI:
    """Links every documented source response to each operation whose path parameters it can all fill."""
    found = operations(openapi)
    for (method, path, status), pointers in SOURCES.items():
        source = found.get((method, path))
        response = (source.responses or {}).get(status) if source else None
        if response is None or isinstance(response, Reference):
            continue  # not served (or not documented) by this build: nothing to link from
        links = dict(response.links or {})
        for target in found.values():
            needed = _path_parameters(target)
            if not needed or not needed <= pointers.keys() or target is source or not target.operation_id:
                continue
            parameters = {f"path.{name}": _expression(pointers[name]) for name in sorted(needed)}
            links.setdefault(target.operation_id, Link(operation_id=target.operation_id, parameters=parameters))
        response.links = links or None
    _link_next_pages(found)
    return openapi


def _link_next_pages(found: dict[tuple[str, str], Operation]) -> None:
    """A page's `next_cursor` is the `cursor` of the same list's next page: a real cursor, not a guessed one."""
    for operation in found.values():
        response = (operation.responses or {}).get("200")
        cursors = [p for p in operation.parameters or () if isinstance(p, Parameter) and p.name == "cursor"]
        if not cursors or not isinstance(response, OpenAPIResponse) or not operation.operation_id:
            continue
        page = Link(operation_id=operation.operation_id, parameters={"query.cursor": "$response.body#/next_cursor"})
        response.links = {**(response.links or {}), f"{operation.operation_id}NextPage": page}


def _expression(pointer: str) -> str:
    return pointer if pointer.startswith("$") else f"$response.body#{pointer}"
