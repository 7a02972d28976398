"""After a fuzz run: the tenant's jobs all ended, every projection caught up with the log, nothing quarantined.

A fuzzer that only looks at HTTP answers misses the worst failures of an event-sourced system: a request that
is accepted and then stops the projector for every tenant, or a job that never ends. These checks look at the
log and the read side directly.
"""

import asyncio
import json
import time

import httpx

POLL_S = 0.05


def wait_queue_drained(client: httpx.Client, timeout_s: float = 150) -> None:
    """Every job the fuzz tenant queued ends (completed, failed or cancelled): none hangs."""
    deadline = time.monotonic() + timeout_s
    while items := client.get("/v1/queue").json()["items"]:
        assert time.monotonic() < deadline, (
            f"jobs still open after {timeout_s} s: {[(j['job_id'], j['status']) for j in items]}"
        )
        time.sleep(0.2)


async def assert_projections_caught_up(nc, conn, timeout_s: float = 30) -> None:
    """Every projection reaches the EVENTS stream's head as it was when the fuzzing ended: none stalled (`nc` and
    `conn`: connections to the stack's NATS and its database)."""
    head = (await nc.jetstream().stream_info("EVENTS")).state.last_seq
    deadline = time.monotonic() + timeout_s
    while True:
        rows = await conn.fetch(r"SELECT name, last_seq FROM projection_checkpoints WHERE name NOT LIKE '%\_\_shadow'")
        checkpoints = {row["name"]: row["last_seq"] for row in rows}
        if (checkpoints and min(checkpoints.values()) >= head) or time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL_S)
    behind = {name: seq for name, seq in checkpoints.items() if seq < head}
    assert checkpoints and not behind, f"projections behind the stream head {head} after {timeout_s} s: {behind}"


async def assert_nothing_quarantined(conn, tenants: list[str]) -> None:
    """Only accepted (valid) requests of these tenants put events on the log, so none may be quarantined."""
    rows = await conn.fetch(
        "SELECT projection, seq, event_type, aggregate_id, tenant_id, error FROM projection_quarantine"
        " WHERE tenant_id = ANY($1::text[]) ORDER BY seq",
        tenants,
    )
    quarantined = [dict(row) for row in rows]
    assert quarantined == [], f"events of a valid request were quarantined: {quarantined}"


class ErrorLogWatch:
    """The error lines the stack's services log from now on: an exception no response shows is still a bug."""

    def __init__(self, stack):
        self._dir = stack.log_dir
        self._offsets = {path: path.stat().st_size for path in self._dir.glob("*.log")}

    def errors(self) -> list[str]:
        found = []
        for path in sorted(self._dir.glob("*.log")):
            with path.open("rb") as f:
                f.seek(self._offsets.get(path, 0))
                for raw in f:
                    try:
                        line = json.loads(raw)
                    except ValueError:
                        continue  # not structlog's (a child's stray output)
                    if isinstance(line, dict) and line.get("level") in ("error", "critical"):
                        context = {
                            k: v for k, v in line.items() if k not in ("event", "level", "timestamp", "exception")
                        }
                        found.append(
                            f"{path.stem}: {line.get('event')} {context} {str(line.get('exception', ''))[-600:]}"
                        )
        return found
