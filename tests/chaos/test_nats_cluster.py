"""Chaos on a three-node NATS cluster (streams and buckets at three replicas): kill -9 the node that leads
the EVENTS stream during a load of uploads and a live session, then bring it back and kill another.

Nothing may be lost or doubled: every accepted job completes exactly once, its segments are whole in the
log and the read model, an SSE client that was watching sees every event once (resuming from Last-Event-ID
if its stream breaks), and the live session carries on to a whole transcript.
"""

import asyncio
import json
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import nats
import pytest
from httpx_sse import connect_sse
from nats.js import api as js_api

from tests.chaos.ledger import assert_insights_once, assert_ledger_matches_read_model, wait_jobs
from tests.chaos.test_live_chaos import key_of, transcript_checks
from tests.chaos.test_projector_lease import lease_holder_pid
from tests.helpers import (
    AUDIO,
    eventually,
    eventually_async,
    log_events,
    new_client,
    read_events,
    second_gateway,
    started_stack,
)
from tests.live_client import LiveRun, read_pcm, stream, ws_url
from voxledger.contracts import streams, subjects
from voxledger.runtime.broker import connect
from voxledger.stack import cluster

UPLOADS = 20
RECONNECT_S = 0.5
STREAMS = [s.name for s in streams.STREAMS]


@pytest.fixture(scope="module")
def cluster_stack(tmp_path_factory):
    # Its own stack: the shared one runs a single nats-server. Two projectors: one active, one on standby.
    scale = {"projector": 2}
    with started_stack(tmp_path_factory.mktemp("nats-cluster"), nats_cluster=3, scale=scale) as stack:
        yield stack


@pytest.fixture(scope="module")
def cluster_client(cluster_stack):
    with new_client(cluster_stack, "nats-cluster") as client:
        yield client


async def events_leader(nc) -> str:
    return (await nc.jetstream().stream_info(streams.EVENTS.name)).cluster.leader


async def all_replicas_current(nc) -> bool:
    """Every stream (KV buckets and the object store included) has a leader and every peer caught up."""
    try:
        infos = await nc.jetstream(timeout=2).streams_info()
    except (nats.errors.Error, TimeoutError):
        return False
    return all(
        i.cluster is not None
        and i.cluster.leader is not None
        and i.config.num_replicas == 3
        and len(i.cluster.replicas or []) == 2
        and all(p.current and not p.offline for p in i.cluster.replicas or [])
        for i in infos
    )


class LeaderChange:
    """Awaits EVENTS' next leader election from JetStream's advisory (no polling), subscribed before the kill."""

    def __init__(self, stack):
        self.stack = stack
        self.elected: Future[tuple[str, float]] = Future()
        self.ready = threading.Event()
        # A loop (and so a connection) of its own on a thread: the test's blocking calls must not delay when the
        # election is seen.
        threading.Thread(target=lambda: asyncio.run(self._watch()), daemon=True).start()
        assert self.ready.wait(30), "the advisory subscription did not start"

    async def _watch(self) -> None:
        nc = await connect(self.stack.nats_as("provision"), "test-advisories")
        try:
            sub = await nc.subscribe(f"$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.{streams.EVENTS.name}")
            await nc.flush()
            self.ready.set()
            message = await sub.next_msg(timeout=120)
            self.elected.set_result((json.loads(message.data)["leader"], time.monotonic()))
        except Exception as err:
            self.elected.set_exception(err)
        finally:
            await nc.close()


def follow_resuming(client: httpx.Client, recording_id: str, connected: threading.Event) -> list[dict]:
    """One SSE client's view of a recording until TranscriptionCompleted, reconnecting with Last-Event-ID
    whenever its stream breaks, as the EventSource spec has browsers do."""
    seen: list[dict] = []
    deadline, streams_opened = time.monotonic() + 300, 0
    while time.monotonic() < deadline:
        if streams_opened:
            time.sleep(RECONNECT_S)  # EventSource's reconnection delay: no tight loop against a gateway at 503
        streams_opened += 1
        headers = {"Last-Event-ID": seen[-1]["id"]} if seen else {}
        path = f"/v1/recordings/{recording_id}/events"
        try:
            with connect_sse(client, "GET", path, headers=headers, timeout=httpx.Timeout(30, read=60)) as source:
                if source.response.status_code != 200:
                    continue  # the gateway answered 503 while it reconnected to NATS: try again
                for sse in source.iter_sse():
                    connected.set()
                    if sse.data:
                        seen.append(
                            {"id": sse.id, "event": sse.event, "at": time.monotonic(), "streams": streams_opened}
                        )
                    if sse.event == "TranscriptionCompleted":
                        return seen
        except httpx.HTTPError:
            continue  # resumed from the last id on the next pass
    raise AssertionError(f"no TranscriptionCompleted of {recording_id}: {seen}")


def live_session(stack, client: httpx.Client, run: LiveRun, started: threading.Event) -> LiveRun:
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")

    async def go() -> LiveRun:
        ready = asyncio.Event()
        # At half speed the session surely spans the kill and the election after it.
        task = asyncio.create_task(stream(ws_url(stack), key_of(client), pcm, rate, 0.5, run=run, started=ready))
        await ready.wait()
        started.set()
        return await task

    return asyncio.run(go())  # on a pool thread, a loop of its own: the test's blocking calls run meanwhile


def upload_accepted(client: httpx.Client, n: int) -> dict:
    """One upload; a 503 while NATS fails over is retried with the same Idempotency-Key, as a client should."""
    headers = {"Idempotency-Key": f"cluster-load-{n}"}
    for _ in range(10):
        with (AUDIO / "short_meeting.ogg").open("rb") as f:
            response = client.post("/v1/recordings", files={"file": ("short_meeting.ogg", f)}, headers=headers)
        if response.status_code == 202:
            return response.json()
        assert response.status_code == 503 and response.json()["code"] == "nats_unavailable", response.text
    raise AssertionError(f"upload {n} was never accepted")


async def test_three_nodes_with_pid_files_owner_only_route_secrets_and_every_url_given(cluster_stack, nats_on):
    stack = cluster_stack
    assert await all_replicas_current(await nats_on(stack)), (
        "every stream, KV bucket and the object store at three current replicas"
    )
    for n, node in enumerate(stack.nats.nodes):
        assert (stack.run_dir / f"nats-{n}.pid").read_text().strip() == str(node.pid)
        assert node.data_dir == stack.data_dir / f"nats-{n}" and (node.data_dir / "jetstream").is_dir()
        config = node.data_dir / "nats.conf"
        assert config.stat().st_mode & 0o077 == 0, "the config holds the route password: owner-only"
        assert cluster.route_password(stack.secrets) in config.read_text()
    assert (stack.secrets.directory / "nats-route.password").stat().st_mode & 0o077 == 0
    assert stack.service_env("transcriber")["NATS_URL"] == ",".join(node.url for node in stack.nats.nodes)


async def test_killing_the_events_leader_mid_load_loses_and_doubles_nothing(cluster_stack, cluster_client, nats_on):
    stack, client = cluster_stack, cluster_client
    with ThreadPoolExecutor(2) as pool:
        run, live_started = LiveRun(), threading.Event()
        live = pool.submit(live_session, stack, client, run, live_started)
        assert live_started.wait(60), "the live session did not start"
        eventually(lambda: run.finals, "a first live final before the kill", 60)
        # Queued behind five others, the watched job is still running when its node goes.
        accepted = [upload_accepted(client, n) for n in range(6)]
        connected, watched_id = threading.Event(), accepted[-1]["recording_id"]
        watched = pool.submit(follow_resuming, client, watched_id, connected)
        assert connected.wait(30), "the event stream did not open"

        leader, change = await events_leader(await nats_on(stack)), LeaderChange(stack)
        killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
        stack.nats.kill_node(stack.nats.node_of(leader))
        accepted += [upload_accepted(client, n) for n in range(6, 8)]
        slowest_202_s = time.monotonic() - killed_at  # the two uploads right after the kill: the client's wait
        accepted += [upload_accepted(client, n) for n in range(8, UPLOADS)]
        new_leader, elected_at = change.elected.result(timeout=60)
        jobs = wait_jobs(client, [a["job_id"] for a in accepted])
        sse = watched.result(timeout=120)
        run = live.result(timeout=180)

    assert new_leader != leader
    nc = await nats_on(stack)  # after the kill
    await assert_ledger_matches_read_model(nc, stack, accepted, jobs)
    await assert_insights_once(nc, stack, accepted)
    stored = [m.envelope.type for m in await log_events(nc, stack, watched_id)]
    assert [e["event"] for e in sse] == stored[: len(sse)], f"SSE missed or repeated: {sse} against {stored}"
    ids = [int(e["id"]) for e in sse]
    assert ids == sorted(set(ids)), "SSE ids rise strictly: nothing repeated after a resume"
    assert sse[-1]["at"] > killed_at, "the watched job ended after the kill: the stream lived through it"
    # A client resuming now, from the last event it had before the kill, gets the rest from the new leader.
    before = [e for e in sse if e["at"] <= killed_at][-1]
    rest = read_events(client, watched_id, until="TranscriptionCompleted", last_event_id=before["id"])
    assert [(e["id"], e["event"]) for e in rest] == [(e["id"], e["event"]) for e in sse[sse.index(before) + 1 :]]
    assert run.ended is not None and run.ended["reason"] == "stopped", run.ended
    assert any(run.started_at + t > killed_at for t, m in run.messages if m["type"] == "final"), "finals went on"
    await transcript_checks(nc, stack, run.session_id, run.finals)
    paused_s = await pause_across(nc, accepted, killed_wall)
    sys.stderr.write(
        f"\nEVENTS leader {leader} killed: {new_leader} elected after {elected_at - killed_at:.2f} s; the jobs"
        f" paused {paused_s:.2f} s; two uploads took {slowest_202_s:.2f} s;"
        f" SSE streams opened: {sse[-1]['streams']}\n"
    )


async def pause_across(nc, accepted: list[dict], at: datetime) -> float:
    """The gap in the log's own (server) timestamps of the jobs' events around `at`: how long appends stood."""
    wanted = {a["recording_id"] for a in accepted}
    everything = js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.ALL)
    sub = await nc.jetstream().subscribe(f"{subjects.EVENTS_PREFIX}.>", ordered_consumer=True, config=everything)
    times = []
    try:
        while True:
            msg = await sub.next_msg(timeout=10)
            if msg.subject.split(".")[3] in wanted:
                times.append(msg.metadata.timestamp)
            if msg.metadata.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    return (min(t for t in times if t > at) - max(t for t in times if t <= at)).total_seconds()


async def test_the_killed_node_rejoins_and_losing_another_loses_nothing_with_two_gateways(
    cluster_stack, cluster_client, tmp_path, nats_on
):
    stack, client = cluster_stack, cluster_client
    down = [n for n, node in enumerate(stack.nats.nodes) if node.proc is None or node.proc.poll() is not None]
    for n in down:
        stack.nats.start_node(n)
    nc = await nats_on(stack)  # every node up again
    await eventually_async(lambda: all_replicas_current(nc), "the restarted node caught up on every stream", 120, 0.5)
    leader = stack.nats.node_of(await events_leader(nc))
    victim = leader if leader not in down else next(n for n in range(len(stack.nats.nodes)) if n not in down)
    with second_gateway(stack, tmp_path / "gateway-2.log") as url:
        other = httpx.Client(base_url=url, headers=client.headers, timeout=30)
        accepted = [upload_accepted(other, 100)]
        stack.nats.kill_node(victim)
        accepted += [upload_accepted(gateway, 101 + n) for n, gateway in enumerate([client, other] * 3)]
        jobs = wait_jobs(other, [a["job_id"] for a in accepted])
    nc = await nats_on(stack)  # after the kill
    await assert_ledger_matches_read_model(nc, stack, accepted, jobs)
    projectors = {stack.service("projector", i).proc.pid for i in (0, 1)}
    assert await eventually_async(lambda: lease_holder_pid(nc), "a projector holding the lease", 30) in projectors
    stack.nats.start_node(victim)
