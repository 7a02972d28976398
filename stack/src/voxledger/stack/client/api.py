"""The voxledger HTTP API as the CLI uses it: an adapter over httpx.AsyncClient that turns problem+json into
`ApiProblem` (its stable `code` and message) and the recording's SSE stream into parsed events."""

import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from httpx_sse import aconnect_sse

from voxledger.stack.local import data_dir, running_stack

DEFAULT_TIMEOUT = httpx.Timeout(60, read=120)  # the SSE stream sends a keep-alive well inside two minutes


class ApiProblem(Exception):
    """A request voxledger refused (its problem+json `code` and detail), or one that never got an answer."""

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Connection:
    url: str
    key: str


def resolve_connection(url: str | None, key: str | None) -> Connection:
    """--url/--key, else VOXLEDGER_URL/VOXLEDGER_API_KEY, else the embedded stack running here and its dev key."""
    url = url or os.environ.get("VOXLEDGER_URL")
    key = key or os.environ.get("VOXLEDGER_API_KEY")
    if not url and (info := running_stack(data_dir())) is not None:
        url = info.http_url
    dev_key = data_dir() / "dev-api-key"
    if not key and dev_key.exists():
        key = dev_key.read_text().strip()
    if not (url and key):
        raise ApiProblem(
            "no_server",
            "no voxledger to talk to: pass --url and --key, set VOXLEDGER_URL and VOXLEDGER_API_KEY, "
            "or start `voxledger up` here",
        )
    return Connection(url.rstrip("/"), key)


def _problem(response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("code") or f"http_{response.status_code}")
    message = str(body.get("detail") or body.get("title") or response.reason_phrase)
    return ApiProblem(code, message, response.status_code)


class _Counted:
    """The uploaded file, telling how many bytes httpx has read from it so far: the upload's progress."""

    def __init__(self, file: BinaryIO, sent: Callable[[int], None]):
        self._file, self._sent = file, sent

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._sent(self._file.tell())
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)  # seek, tell, fileno: httpx sizes the part with them


class Api:
    """One connection pool per command run; every method raises `ApiProblem` for anything but success."""

    def __init__(self, connection: Connection):
        self._http = httpx.AsyncClient(
            base_url=connection.url, headers={"Authorization": f"Bearer {connection.key}"}, timeout=DEFAULT_TIMEOUT
        )

    async def __aenter__(self) -> "Api":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._http.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise ApiProblem("connection_error", f"{type(err).__name__}: {err}") from err
        if response.is_error:
            raise _problem(response)
        return response

    async def upload(
        self, path: Path, form: dict[str, str], idempotency_key: str, sent: Callable[[int], None] = lambda _: None
    ) -> dict[str, Any]:
        with path.open("rb") as f:
            files = {"file": (path.name, _Counted(f, sent))}
            headers = {"Idempotency-Key": idempotency_key}
            response = await self._send("POST", "/v1/recordings", files=files, data=form, headers=headers)
        return response.json()

    async def events(self, recording_id: str, after: str = "0") -> AsyncIterator[Event]:
        """The recording's events from the start (or after `after`), then live; keep-alives are skipped."""
        path = f"/v1/recordings/{recording_id}/events"
        try:
            async with aconnect_sse(self._http, "GET", path, headers={"Last-Event-ID": after}) as source:
                if source.response.is_error:
                    await source.response.aread()
                    raise _problem(source.response)
                async for sse in source.aiter_sse():
                    if sse.data:
                        yield Event(sse.id, sse.event, json.loads(sse.data)["data"])
        except httpx.HTTPError as err:
            raise ApiProblem("connection_error", f"the event stream broke: {type(err).__name__}: {err}") from err

    async def transcript(self, recording_id: str, fmt: str, job_id: str | None, min_seq: str | None) -> bytes:
        params = {"format": fmt, **({"job_id": job_id} if job_id else {}), **({"min_seq": min_seq} if min_seq else {})}
        response = await self._send("GET", f"/v1/recordings/{recording_id}/transcript", params=params)
        return response.content

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        clean = {name: value for name, value in params.items() if value is not None}
        return (await self._send("GET", path, params=clean)).json()

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return (await self._send("POST", path, json={k: v for k, v in body.items() if v is not None})).json()
