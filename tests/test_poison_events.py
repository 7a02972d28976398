"""Poison events on a real stack: one event Postgres cannot store, or one message that is not an envelope,
is quarantined; the projection goes on for every tenant, the recording says it is degraded, /readyz says why,
the CLI lists and retries them, and a replay quarantines the same events with the same digest.

The stack is this module's own: a quarantined event makes /readyz answer 503 for good.
"""

import asyncio
import json
import signal
import time

import httpx
import pytest

from tests.helpers import cli, metrics_text, new_client, running_stack, stack_vault, started_stack, upload
from voxledger.contracts import events as ev
from voxledger.contracts import subjects
from voxledger.contracts.envelope import seal
from voxledger.contracts.ids import new_id
from voxledger.gateway.adapters.bus import command_id_for
from voxledger.runtime.eventstore import EventStore
from voxledger.stack.embedded import free_port

MAX_LAG = 20


@pytest.fixture(scope="module")
def poison_stack(tmp_path_factory):
    env = {"VOXLEDGER_READY_MAX_LAG_EVENTS": str(MAX_LAG), "VOXLEDGER_PROJECTOR_METRICS_PORT": str(free_port())}
    with started_stack(tmp_path_factory.mktemp("poison-stack"), scale={"live": 0, "postproc": 0}, env=env) as stack:
        yield stack


async def append(nc, stack, recording_id: str, tenant: str, body: ev.Event, causation_id: str | None = None) -> int:
    """As the transcriber appends: through the event store, after the recording's last event."""
    store = EventStore(nc.jetstream(), vault=await stack_vault(nc, stack))  # sealed, as the transcriber's
    _, last = await store.load(subjects.RECORDING, recording_id)
    message = seal(body, aggregate_id=recording_id, tenant_id=tenant, causation_id=causation_id)
    return await store.append(subjects.RECORDING, recording_id, [message], last)


def quarantine(stack) -> dict[int, list[str]]:
    lines = cli(stack, "projections", "quarantine").splitlines()[1:]
    return {int(line.split()[0]): line.split() for line in lines}


def readyz(stack) -> httpx.Response:
    return httpx.get(f"{stack.http_url}/readyz", timeout=10)


def visible_within(client: httpx.Client, accepted: httpx.Response, seconds: float) -> float:
    """Seconds from the 202 until the recording reads; fails after `seconds`."""
    started = time.monotonic()
    path = f"/v1/recordings/{accepted.json()['recording_id']}"
    while client.get(path).status_code == 404:
        assert time.monotonic() - started < seconds, f"the upload was not visible within {seconds} s"
        time.sleep(0.01)
    return time.monotonic() - started


def quarantined_log_lines(stack) -> list[dict]:
    text = (stack.data_dir / "logs" / "projector-0.log").read_text()
    return [json.loads(line) for line in text.splitlines() if '"projector.event_quarantined"' in line]


def wait_quarantined(stack, seq: int) -> dict[int, list[str]]:
    deadline = time.monotonic() + 30
    while seq not in (held := quarantine(stack)):
        assert time.monotonic() < deadline, f"seq {seq} was never quarantined"
    return held


async def test_readyz_says_when_a_projection_lags_behind_the_log(poison_stack, nats_on):
    stack = poison_stack
    js = (await nats_on(stack)).jetstream()
    assert readyz(stack).status_code == 200
    projector = stack.service("projector", 0).proc
    projector.send_signal(signal.SIGSTOP)
    try:
        for _ in range(MAX_LAG + 5):  # skipped as unknown, but every event counts towards the lag
            await js.publish(
                "vl.evt.rec.lag.Unknown",
                b'{"event_id":"x","type":"Unknown","schema_version":1,'
                b'"aggregate_id":"lag","tenant_id":"t","occurred_at":"2025-01-01T00:00:00Z"}',
            )
        lagging = readyz(stack)
        assert lagging.status_code == 503 and lagging.json()["code"] == "projection_lagging", lagging.text
        assert "behind" in lagging.json()["detail"]
        assert httpx.get(f"{stack.http_url}/healthz").status_code == 200, "liveness is not readiness"
    finally:
        projector.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 30
    while readyz(stack).status_code != 200:
        assert time.monotonic() < deadline, "still not ready once the projector caught up"
        time.sleep(0.05)


async def test_every_commit_notifies_the_projection_channel(poison_stack, nats_on, pg_on):
    stack = poison_stack
    conn, js = await pg_on(stack.database_url), (await nats_on(stack)).jetstream()
    heard: asyncio.Queue[str] = asyncio.Queue()
    await conn.add_listener("voxledger_projection", lambda *args: heard.put_nowait(args[3]))
    unknown = b'{"event_id":"n","type":"Unknown","schema_version":1,"aggregate_id":"n","tenant_id":"t","occurred_at":"2025-01-01T00:00:00Z"}'
    seq = (await js.publish("vl.evt.rec.n.Unknown", unknown)).seq
    while True:
        name, _, at = (await asyncio.wait_for(heard.get(), 10)).partition(":")
        if name == "read_models" and int(at) >= seq:
            return


async def test_a_nul_in_an_event_is_quarantined_and_every_other_tenant_goes_on(poison_stack, nats_on, client_on):
    stack = poison_stack
    nc, victim, bystander = (
        await nats_on(stack),
        await client_on(stack, "poisoned"),
        await client_on(stack, "bystander"),
    )
    recording = upload(victim, "short_meeting.ogg", transcribe="false").json()
    rid = recording["recording_id"]
    options = ev.TranscriptionOptions(model="x\x00y")
    command_id = command_id_for("poisoned", new_id())  # as if a RequestTranscription command had led to it
    seq = await append(
        nc, stack, rid, "poisoned", ev.TranscriptionRequested(job_id=new_id(), options=options), command_id
    )

    took = visible_within(
        bystander, upload(bystander, "short_meeting.ogg", transcribe="false", await_visible=False), 1.0
    )
    held = wait_quarantined(stack, seq)
    assert held[seq][1:4] == ["TranscriptionRequested", rid, "poisoned"], held[seq]
    assert "Unicode" in " ".join(held[seq][5:]) or "0x00" in " ".join(held[seq][5:]), held[seq]

    waited = victim.get(f"/v1/recordings/{rid}", params={"min_seq": command_id})
    assert "X-Read-Model-Stale" not in waited.headers, "the token of a quarantined event's command is answered"
    degraded = waited.json()
    assert degraded["read_model_error"] == {"code": "event_quarantined", "seq": seq}
    assert degraded["status"] == "uploaded" and degraded["jobs"] == [], "status stays what was projected"
    listed = victim.get("/v1/recordings").json()["items"]
    assert [r["read_model_error"] for r in listed if r["recording_id"] == rid] == [
        {"code": "event_quarantined", "seq": seq}
    ]
    assert bystander.get("/v1/recordings").json()["items"][0]["read_model_error"] is None

    ready = readyz(stack)
    assert ready.status_code == 503 and ready.json()["code"] == "projection_quarantined", ready.text
    assert [line["seq"] for line in quarantined_log_lines(stack)].count(seq) == 1, "one error line per event"
    assert [line["level"] for line in quarantined_log_lines(stack)] == ["error"] * len(quarantined_log_lines(stack))
    metrics = httpx.get(f"http://127.0.0.1:{stack.extra_env['VOXLEDGER_PROJECTOR_METRICS_PORT']}/metrics").text
    assert 'voxledger_projector_quarantined_events_total{projection="read_models"}' in metrics
    assert 'voxledger_projector_quarantined_events{projection="read_models"} 1.0' in metrics_text(stack)

    out = cli(stack, "projections", "quarantine", "--retry")
    assert "still failing" in out and seq in quarantine(stack), "the NUL still cannot be stored: it stays"
    print(f"bystander's upload visible after {took * 1000:.0f} ms")


async def test_a_message_that_is_not_an_envelope_is_quarantined_and_the_projector_goes_on(
    poison_stack, nats_on, client_on
):
    stack = poison_stack
    seq = (await (await nats_on(stack)).jetstream().publish("vl.evt.rec.x.Forged", b"{}")).seq
    client = await client_on(stack, "after-forged")  # a key issued after the poison works
    visible_within(client, upload(client, "short_meeting.ogg", transcribe="false", await_visible=False), 5.0)
    held = wait_quarantined(stack, seq)
    assert held[seq][1:4] == ["Forged", "x", "-"], held[seq]
    assert "ValidationError" in " ".join(held[seq][5:])


async def test_a_quarantined_event_applies_after_a_fix_with_retry(poison_stack, nats_on, pg_on, client_on):
    """A fault that a fix removes: here a constraint (say, from a bad migration) that refuses one job."""
    stack = poison_stack
    constraint = "ALTER TABLE jobs ADD CONSTRAINT refuses_fixable CHECK (options->>'model' IS DISTINCT FROM 'fixable')"
    conn = await pg_on(stack.database_url)
    await conn.execute(constraint)
    nc, client = await nats_on(stack), await client_on(stack, "fixable")
    rid = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    job_id = new_id()
    seq = await append(
        nc,
        stack,
        rid,
        "fixable",
        ev.TranscriptionRequested(job_id=job_id, options=ev.TranscriptionOptions(model="fixable")),
    )
    assert "CheckViolation" in " ".join(wait_quarantined(stack, seq)[seq])
    assert client.get(f"/v1/recordings/{rid}").json()["read_model_error"] == {
        "code": "event_quarantined",
        "seq": seq,
    }

    await conn.execute("ALTER TABLE jobs DROP CONSTRAINT refuses_fixable")  # the fix
    out = cli(stack, "projections", "quarantine", "--retry")
    assert "1 now applied" in out, out
    assert seq not in quarantine(stack)
    fixed = client.get(f"/v1/recordings/{rid}").json()
    assert fixed["read_model_error"] is None
    assert [j["job_id"] for j in fixed["jobs"]] == [job_id] and fixed["jobs"][0]["options"]["model"] == "fixable"
    # The transcriber took the job meanwhile (and failed it: no such model); the rebuilt rows hold that too.
    assert fixed["status"] == fixed["jobs"][0]["status"] != "uploaded"


async def test_deleting_a_recording_settles_its_quarantined_events(poison_stack, nats_on, client_on):
    stack = poison_stack
    nc, client = await nats_on(stack), await client_on(stack, "deleted")
    rid = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    seq = await append(
        nc,
        stack,
        rid,
        "deleted",
        ev.TranscriptionRequested(job_id=new_id(), options=ev.TranscriptionOptions(model="\x00")),
    )
    wait_quarantined(stack, seq)
    assert client.delete(f"/v1/recordings/{rid}").status_code == 202
    deadline = time.monotonic() + 30
    while seq in quarantine(stack):
        assert time.monotonic() < deadline, "the deleted recording's quarantined event stayed"
    assert client.get(f"/v1/recordings/{rid}").status_code == 404


def test_a_replay_quarantines_the_same_events_and_the_digests_match(poison_stack):
    stack = poison_stack
    before = quarantine(stack)
    assert len(before) >= 2
    live = cli(stack, "projections", "digest")
    out = cli(stack, "replay")
    assert f"{len(before)} quarantined" in out, out
    assert cli(stack, "projections", "digest") == live, "the replayed read models differ from the live ones"
    after = quarantine(stack)
    assert {seq: row[:4] for seq, row in after.items()} == {seq: row[:4] for seq, row in before.items()}
    assert readyz(stack).json()["code"] == "projection_quarantined"
    with new_client(stack, "after-replay") as client:  # the live projector goes on with the swapped tables
        upload(client, "short_meeting.ogg", transcribe="false")


async def test_a_stack_holding_a_quarantined_event_starts_again_and_says_why(tmp_path, nats_on):
    """`voxledger up` waits for a serving gateway: a quarantined event must not stop a restart."""
    only_read_side = {"transcriber": 0, "live": 0, "postproc": 0}
    async with running_stack(tmp_path, scale=only_read_side) as first:
        nc = await nats_on(first)
        seq = (await nc.jetstream().publish("vl.evt.rec.x.Forged", b"{}")).seq
        await nc.close()  # before its stack stops: no reconnecting to a server that is gone
        wait_quarantined(first, seq)
    async with running_stack(tmp_path, scale=only_read_side) as again:
        ready = readyz(again)
        assert ready.status_code == 503 and ready.json()["code"] == "projection_quarantined"
        assert seq in quarantine(again)
