"""A webhook receiver for tests: a threaded http.server on a free loopback port that answers with the
statuses it is told to, records every request, and lets a test await requests instead of sleeping."""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verified(self, secret: str) -> dict:
        """The payload, once standardwebhooks has verified its signature and timestamp."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    """`answers` is consumed one status per request; once empty, every request gets `then`."""

    answers: list[int] = field(default_factory=list)
    then: int = 200
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def answer(self) -> int:
        with self._changed:
            return self.answers.pop(0) if self.answers else self.then

    def record(self, received: Received) -> None:
        with self._changed:
            self.requests.append(received)
            self._changed.notify_all()

    def set_then(self, status: int) -> None:
        with self._changed:
            self.then = status

    def wait_for(self, check: Callable[[list[Received]], bool], what: str, timeout_s: float = 60) -> list[Received]:
        """The requests so far, once `check` holds for them; awaited on each arrival."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not check(self.requests):
                left = deadline - time.monotonic()
                assert left > 0, f"{what}: not within {timeout_s:.0f} s; got {[r.status for r in self.requests]}"
                self._changed.wait(left)
            return list(self.requests)

    def delivered(self) -> list[Received]:
        with self._changed:
            return [r for r in self.requests if 200 <= r.status < 300]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.answer()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            receiver.record(Received({k.lower(): v for k, v in self.headers.items()}, body, status))

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def receiving(answers: list[int] | None = None, then: int = 200) -> Iterator[Receiver]:
    receiver = Receiver(answers=list(answers or []), then=then)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
