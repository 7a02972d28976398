"""Connections that send half a request head cannot hold the gateway's connection slots: each is answered 408
and closed at the header deadline, and requests get through again (on main they answered 503 while it lasted)."""

import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.helpers import eventually

SLOTS, HEADER_TIMEOUT_S = 20, 3
ENV = {"VOXLEDGER_MAX_CONNECTIONS": str(SLOTS), "VOXLEDGER_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S)}


def half_a_head(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: voxledger\r\nX-Slow: ")
    return sock


def test_half_sent_heads_are_cut_off_and_requests_get_through_again(own_stack):
    stack = own_stack(env=ENV)
    opened = time.monotonic()
    socks = [half_a_head(stack.http_url) for _ in range(SLOTS + 5)]
    try:
        first = httpx.get(f"{stack.http_url}/healthz", timeout=30)
        if time.monotonic() - opened < HEADER_TIMEOUT_S:
            assert first.status_code == 503, "the slots are full while the heads are still in time"
        answers = [s.recv(1024) for s in socks]  # each is answered and closed at its deadline
        took_s = time.monotonic() - opened
        assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers), {a[:40] for a in answers}
        assert HEADER_TIMEOUT_S - 1 < took_s < HEADER_TIMEOUT_S + 10, took_s
        healthy = eventually(
            lambda: httpx.get(f"{stack.http_url}/healthz", timeout=30).status_code == 200, "a request served", 10
        )
        assert healthy
    finally:
        for s in socks:
            s.close()
