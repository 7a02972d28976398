"""Replay: a rebuilt read model equals the live one, the API serves throughout, and old event versions still read right.

The history mixes a few hundred recordings appended through the real contracts
(completions, retries, failures, cancels, re-transcriptions, deletions) with
recordings made through the real API and the real model.
"""

import hashlib
import json
import threading

import httpx
import pytest

from tests.helpers import cli, eventually, metrics_text, started_stack, upload, wait_job, wait_logged, wait_visible
from tests.histories import append_all, histories
from voxledger.contracts.envelope import decode_envelope
from voxledger.contracts.ids import new_id

TENANT = "replay"


@pytest.fixture(scope="module")
def replay_stack(tmp_path_factory):
    with started_stack(tmp_path_factory.mktemp("replay-stack"), scale={"transcriber": 0}) as stack:
        yield stack


def digests(stack) -> dict[str, str]:
    lines = cli(stack, "projections", "digest").splitlines()[1:]
    return {name: f"{rows} {digest}" for name, rows, digest in (line.split() for line in lines)}


async def api_keys(conn) -> list[tuple]:
    """The keys' rows without their last use (see the replay test)."""
    found = await conn.fetch(
        "SELECT key_id, tenant_id, key_hash, prefix, name, created_at, scope, expires_at, revoked_at"
        " FROM api_keys ORDER BY key_id"
    )
    return [tuple(r) for r in found]


async def head(js) -> int:
    return (await js.stream_info("EVENTS")).state.last_seq


async def tenant_usage(conn) -> dict[str, tuple[int, int]]:
    rows = await conn.fetch("SELECT tenant_id, events, event_bytes FROM tenant_usage")
    return {r["tenant_id"]: (r["events"], r["event_bytes"]) for r in rows}


async def appended_since(js, seq: int) -> dict[str, tuple[int, int]]:
    """Events and bytes per tenant appended to EVENTS after `seq`."""
    counts: dict[str, tuple[int, int]] = {}
    for n in range(seq + 1, await head(js) + 1):
        data = (await js.get_msg("EVENTS", n)).data or b""
        events, size = counts.get(tenant := decode_envelope(data).tenant_id, (0, 0))
        counts[tenant] = (events + 1, size + len(data))
    return counts


async def caught_up(client: httpx.Client, js) -> None:
    """Waits until the read models include every event appended so far."""
    params = {"min_seq": await head(js), "limit": 1}  # each read waits up to 2 s for the projector by itself
    eventually(
        lambda: not client.get("/v1/recordings", params=params).headers.get("X-Read-Model-Stale"), "caught up", 120
    )


async def through_the_api(stack, client, nc) -> dict:
    """Real uploads and transcriptions: completed, re-transcribed, cancelled, deleted, never transcribed."""
    # The transcriber (which also handles commands) may still be starting: the upload waits longer than usual.
    kept = upload(client, "short_meeting.ogg", await_visible=False, language="en").json()
    wait_visible(client, f"/v1/recordings/{kept['recording_id']}", timeout_s=120)
    again = client.post(f"/v1/recordings/{kept['recording_id']}/transcriptions", json={"language": "en"}).json()
    doomed = upload(client, "short_meeting.ogg").json()
    cancelled = upload(client, "bench_60s.ogg").json()
    client.post(f"/v1/jobs/{cancelled['job_id']}/cancel")
    untranscribed = upload(client, "short_meeting.ogg", transcribe="false").json()
    for job in (kept["job_id"], again["job_id"], doomed["job_id"], cancelled["job_id"]):
        wait_job(client, job, timeout_s=300)
    for job in (kept["job_id"], again["job_id"]):  # embedded and post-processed after completing: before the digest
        await wait_logged(nc, stack, kept["recording_id"], "PassagesEmbedded", job_id=job, timeout_s=120)
        await wait_logged(nc, stack, kept["recording_id"], "InsightsCompleted", job_id=job, timeout_s=300)
    assert client.delete(f"/v1/recordings/{doomed['recording_id']}").status_code == 202
    return {"kept": kept, "doomed": doomed, "untranscribed": untranscribed}


async def test_a_full_replay_equals_the_live_read_models_and_the_api_serves_throughout(
    replay_stack, nats_on, pg_on, client_on
):
    stack = replay_stack
    nc = await nats_on(stack)
    js = nc.jetstream()
    appended = await append_all(js, list(histories(seed=7, tenant=TENANT, count=300)))
    assert appended > 5000
    stack.add("transcriber")  # after the appended jobs ended, so it only skips them
    client = await client_on(stack, TENANT)
    made = await through_the_api(stack, client, nc)
    await caught_up(client, js)
    live, keys_before = digests(stack), await api_keys(await pg_on(stack.database_url))
    usage_before, seq_before = await tenant_usage(await pg_on(stack.database_url)), await head(js)
    assert int(live["recordings"].split()[0]) > 250 and int(live["deleted_recordings"].split()[0]) > 10

    failures, reads = [], [0]
    done = threading.Event()
    probe = threading.Thread(
        target=read_during_replay, args=(stack, client, made["kept"]["recording_id"], done, failures, reads)
    )
    probe.start()
    try:
        out = cli(stack, "replay")
    finally:
        done.set()
        probe.join()
    assert "swapped in" in out
    assert failures == [], failures[:5]
    assert reads[0] > 20, f"only {reads[0]} reads overlapped the replay"

    # The reads during the replay are key uses too: one past a minute's turn appends an ApiKeyUsed, so a
    # key's last use may rightly be later now, and the tenant's usage counts that event. Everything else must be
    # exactly what it was; the usage, exactly what it was plus the events appended since.
    await caught_up(client, js)
    replayed = digests(stack)
    moving = ("api_keys", "tenant_usage")
    assert {t: d for t, d in replayed.items() if t not in moving} == {
        t: d for t, d in live.items() if t not in moving
    }, "the replayed read models differ from the live ones"
    since = await appended_since(js, seq_before)
    expected = {t: (n + since.get(t, (0, 0))[0], b + since.get(t, (0, 0))[1]) for t, (n, b) in usage_before.items()}
    assert await tenant_usage(await pg_on(stack.database_url)) == expected, "the replay counted another usage"
    assert await api_keys(await pg_on(stack.database_url)) == keys_before, "the replayed keys differ from the live ones"
    assert client.get(f"/v1/recordings/{made['doomed']['recording_id']}").status_code == 404, "deleted stays deleted"
    assert client.get(f"/v1/recordings/{made['untranscribed']['recording_id']}").status_code == 200
    after = upload(client, "short_meeting.ogg").json()  # the live projector carries on with the new tables
    assert wait_job(client, after["job_id"])["status"] == "completed"


def read_during_replay(stack, client, recording_id: str, done: threading.Event, failures: list, reads: list) -> None:
    """Lists, reads one recording and searches in a loop; every answer must be complete."""
    with httpx.Client(base_url=stack.http_url, headers=client.headers, timeout=30) as reader:
        while not done.is_set():
            checks = {
                "list": reader.get("/v1/recordings", params={"limit": 5}),
                "recording": reader.get(f"/v1/recordings/{recording_id}"),
                "search": reader.get("/v1/search", params={"q": "budget"}),
            }
            for name, response in checks.items():
                body = response.json()
                if response.status_code != 200 or body.get("items") == [] or (name == "recording" and not body["jobs"]):
                    failures.append((name, response.status_code, response.text[:200]))
            reads[0] += 1


async def test_v1_events_still_read_right_after_the_contract_moved_to_v2_and_unknown_ones_are_skipped(
    replay_stack, nats_on
):
    """ApiKeyIssued v1 (field `name`) predates v2 (`label`): its upcaster keeps old keys working, live and replayed."""
    stack = replay_stack
    api_key = "vl_" + new_id().replace("-", "")
    key_id = new_id()
    v1 = {
        "event_id": new_id(),
        "type": "ApiKeyIssued",
        "schema_version": 1,
        "aggregate_id": key_id,
        "tenant_id": "legacy",
        "occurred_at": "2024-06-01T00:00:00Z",
        "data": {"key_hash": hashlib.sha256(api_key.encode()).hexdigest(), "prefix": api_key[:10], "name": "from v1"},
    }
    unknown = {**v1, "event_id": new_id(), "type": "RecordingArchived", "data": {}}
    newer = {**v1, "event_id": new_id(), "schema_version": 9, "aggregate_id": new_id()}

    async def write(js, docs):
        for doc, subject in docs:
            await js.publish(subject, json.dumps(doc).encode(), headers={"Nats-Msg-Id": doc["event_id"]})

    await write((await nats_on(stack)).jetstream(), [(unknown, "vl.evt.rec.x.RecordingArchived")])
    key_events = [
        (newer, f"vl.evt.key.{newer['aggregate_id']}.ApiKeyIssued"),
        (v1, f"vl.evt.key.{key_id}.ApiKeyIssued"),
    ]
    await write(
        (await nats_on(stack, "keys")).jetstream(), key_events
    )  # only the key command handler's identity appends key events
    with httpx.Client(base_url=stack.http_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as legacy:
        eventually(lambda: legacy.get("/v1/recordings").status_code != 401, "the v1 key usable", 30)
        metrics = metrics_text(stack)
        skipped = next(
            line
            for line in metrics.splitlines()
            if line.startswith('voxledger_projector_skipped_events{projection="read_models"}')
        )
        assert float(skipped.split()[-1]) >= 2, "the unknown type and the newer version were counted"
        assert 'voxledger_projector_lag_events{projection="read_models"}' in metrics

        before = digests(stack)
        cli(stack, "replay")
        assert digests(stack)["api_keys"] == before["api_keys"]
        assert legacy.get("/v1/recordings").status_code == 200, "the replayed v1 key still works"
        assert legacy.get("/v1/search", params={"q": "budget"}).json()["items"] == []
