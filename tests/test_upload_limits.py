"""Uploads one tenant cannot use to pin the gateway: at most a few of a tenant's uploads in flight at once, and an
upload that trickles in (a byte a second) is cut off with 408 `body_too_slow` after its floor of time."""

import json
import socket
import threading
import time
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import eventually, metrics_text, new_client, upload

# The floor leaves a loaded machine time to get both trickles into their handlers before they are cut off.
FLOOR_S, IN_FLIGHT = 15, 2
ENV = {
    "VOXLEDGER_BODY_FLOOR_S": str(FLOOR_S),
    "VOXLEDGER_BODY_MIN_KIB_PER_S": "64",
    "VOXLEDGER_MAX_UPLOADS_IN_FLIGHT_PER_TENANT": str(IN_FLIGHT),
}


class Trickle(threading.Thread):
    """A multipart upload that declares 1 MB, sends its part header, then one byte a second until answered."""

    def __init__(self, url: str, key: str):
        super().__init__(daemon=True)
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        head = (
            "POST /v1/recordings HTTP/1.1\r\nHost: voxledger\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            "Content-Length: 1000000\r\n\r\n"
            '--b\r\nContent-Disposition: form-data; name="file"; filename="slow.wav"\r\n\r\nRIFF'
        )
        self.sock.sendall(head.encode())
        self.started, self.answer, self.took_s = time.monotonic(), b"", 0.0

    def run(self) -> None:
        self.sock.settimeout(1.0)
        while not self.answer and time.monotonic() - self.started < 60:
            try:
                self.answer = self.sock.recv(65536)
            except TimeoutError:
                self.sock.sendall(b"x")
        self.took_s = time.monotonic() - self.started
        self.sock.settimeout(5)
        while b"\r\n\r\n" in self.answer and not self.answer.endswith(b"}") and (more := self.sock.recv(65536)):
            self.answer += more
        self.sock.close()

    def status_and_code(self) -> tuple[int, str]:
        head, _, body = self.answer.partition(b"\r\n\r\n")
        return int(head.split()[1]), json.loads(body)["code"]


def uploads_in_flight(stack) -> float:
    """The upload bodies the gateway is receiving: how a test knows the trickles are in their handlers."""
    family = next(
        f for f in text_string_to_metric_families(metrics_text(stack)) if f.name == "voxledger_uploads_in_flight"
    )
    return family.samples[0].value


def test_a_tenant_s_slow_uploads_are_capped_and_cut_off(own_stack):
    stack = own_stack(env=ENV)
    with new_client(stack, "slow-a") as a, new_client(stack, "slow-b") as b:
        key = a.headers["Authorization"].split()[1]
        trickles = [Trickle(stack.http_url, key) for _ in range(IN_FLIGHT)]
        for t in trickles:
            t.start()

        # The trickles are in their handlers once the gateway counts both bodies as arriving; until then a third
        # upload would race them. Then the tenant's next upload is refused, and another tenant's is not.
        try:
            eventually(lambda: uploads_in_flight(stack) == IN_FLIGHT, "both trickles in flight", FLOOR_S - 2)
        except AssertionError as err:
            raise AssertionError(f"{err}; the trickles got: {[t.answer[:200] for t in trickles]}") from None
        over = upload(a, "short_meeting.ogg", await_visible=False)
        assert over.status_code == 429, over.text
        assert over.json()["code"] == "quota_exceeded" and over.json()["field"] == "uploads_in_flight", over.text
        assert upload(b, "short_meeting.ogg", await_visible=False).status_code == 202

        for t in trickles:
            t.join(60)
            assert t.status_and_code() == (408, "body_too_slow"), t.answer[:300]
            assert FLOOR_S - 1 < t.took_s < FLOOR_S + 10, t.took_s
        assert upload(a, "short_meeting.ogg", await_visible=False).status_code == 202, "the slots are free again"
