"""uvicorn's h11 protocol with a header-read deadline: a request's headers must be complete this soon.

uvicorn times out idle keep-alive connections but not a request head that arrives slowly, nor a new
connection that sends nothing: a client that opens many and sends half a header each holds every slot of
`limit_concurrency`, and everyone else gets 503. Here the deadline starts when a connection opens (or when a
kept-alive one receives the first byte of its next request) and ends once h11 has read the whole head; a
connection past it gets a bare 408 (there is no request to answer with a problem) and is closed.
"""

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


def with_header_deadline(timeout_s: float) -> type[H11Protocol]:
    """The protocol class to pass uvicorn as `http=`."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout_s": timeout_s})


class HeaderDeadlineProtocol(H11Protocol):
    header_timeout_s = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self._awaiting_head():
            self._arm()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if not self._awaiting_head():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _awaiting_head(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _head_too_slow(self) -> None:
        self._header_timer = None
        if not self._awaiting_head() or self.transport.is_closing():
            return
        # A kept-alive connection that sent nothing is the keep-alive timer's; one with a partial head is ours.
        self.transport.write(TIMED_OUT)
        self.transport.close()
