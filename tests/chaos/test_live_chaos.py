"""Live sessions under failure, on a stack of two live workers (one session each):
a worker killed mid-session, a client that drops and resumes, bad input, and admission control."""

import asyncio
import json
import time

import msgspec
import pytest
import websockets
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import KeyNotFoundError

from tests.helpers import AUDIO, BROKEN_MODEL, log_events, new_client, reference, stack_vault, started_stack
from tests.live_client import LiveRun, read_pcm, receive_until_ended, send_paced, stream, ws_url
from tests.wer import STREAMING_WER, assert_wer
from voxledger.contracts import subjects
from voxledger.contracts.events import TranscriptionOptions
from voxledger.contracts.ids import new_id
from voxledger.contracts.live import LiveSessionSpec
from voxledger.contracts.streams import LIVE_SESSION_TTL_S, LIVE_SESSIONS_BUCKET
from voxledger.gateway.adapters.live import LiveBus

REFERENCE = reference("short_meeting.wav")
MAX_SESSION_S = 12
ENV = {
    "VOXLEDGER_LIVE_MAX_SESSIONS": "1",
    "VOXLEDGER_LIVE_MAX_SESSION_S": str(MAX_SESSION_S),
    "VOXLEDGER_LIVE_BURST_S": "60",  # the over-long session is sent at once
    "VOXLEDGER_LIVE_ADMISSION_TIMEOUT_S": "3",
}


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory):
    scale = {"live": 2, "transcriber": 0, "postproc": 0}
    with started_stack(tmp_path_factory.mktemp("live-chaos"), scale=scale, env=ENV) as stack:
        yield stack


@pytest.fixture(scope="module")
def chaos_client(live_stack):
    with new_client(live_stack, "live-chaos") as c:
        yield c


def key_of(client) -> str:
    return client.headers["Authorization"].split()[1]


def connect(stack, client, **kwargs):
    return websockets.connect(ws_url(stack), additional_headers={"Authorization": f"Bearer {key_of(client)}"}, **kwargs)


async def next_of(ws, kind: str, timeout_s: float = 60) -> dict:
    """The next message of `kind`; other kinds (interims, finals) are skipped."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
        if message["type"] == kind:
            return message


async def transcript_checks(nc, stack, session_id: str, finals: list[dict]) -> None:
    history = await log_events(nc, stack, session_id)
    logged = [s for m in history if m.envelope.type == "SegmentsTranscribed" for s in m.body.segments]
    assert [s.index for s in logged] == list(range(len(logged))), "no final duplicated or missing in the log"
    assert [(f["index"], f["text"]) for f in finals] == [(s.index, s.text) for s in logged]
    assert [s.start for s in logged] == sorted(s.start for s in logged), "the transcript is continuous"
    assert_wer(REFERENCE, " ".join(s.text for s in logged), STREAMING_WER, "the live transcript")


@pytest.mark.parametrize("stop", ["kill", "terminate"])
async def test_a_stopped_worker_s_session_continues_on_the_other_worker(live_stack, chaos_client, stop, nats_on):
    """kill -9: the lease expires and the other worker takes over; SIGTERM: the worker hands it back at once."""
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")

    async def session() -> LiveRun:
        run = LiveRun()
        async with connect(live_stack, chaos_client) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": rate, "language": "en"}))
            run.session_id = (await next_of(ws, "ready"))["session_id"]
            run.started_at = time.monotonic()
            receiving = asyncio.create_task(receive_until_ended(ws, run))
            half = len(pcm) // 2 // 2 * 2
            await send_paced(ws, pcm, rate, stop_byte=half)
            holder = chaos_client.get(f"/v1/live/sessions/{run.session_id}").json()["worker"]
            victim = int(holder.split("-")[1])
            process = live_stack.service("live", victim).proc
            getattr(process, stop)()  # kill: SIGKILL, no goodbye; terminate: SIGTERM, a graceful stop
            await asyncio.to_thread(process.wait, 30)
            live_stack.restart("live", victim)  # back to two workers for the next tests (a new pid: a new worker)
            await send_paced(ws, pcm, rate, start_byte=half)
            await ws.send(json.dumps({"type": "stop"}))
            await asyncio.wait_for(receiving, 180)
        return run

    run = await session()
    assert run.ended is not None and run.ended["reason"] == "stopped"
    nc = await nats_on(live_stack)
    history = await log_events(nc, live_stack, run.session_id)
    started = next(m.body for m in history if m.envelope.type == "LiveSessionStarted")
    taken = [m.body for m in history if m.envelope.type == "LiveSessionTakenOver"]
    assert len(taken) == 1 and taken[0].worker != started.worker
    await transcript_checks(nc, live_stack, run.session_id, run.finals)


async def test_a_client_that_reconnects_resumes_without_missing_or_repeated_finals(live_stack, chaos_client, nats_on):
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")

    async def first_half() -> tuple[str, list[dict]]:
        async with connect(live_stack, chaos_client) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": rate, "language": "en"}))
            session_id = (await next_of(ws, "ready"))["session_id"]
            await send_paced(ws, pcm, rate, stop_byte=len(pcm) * 2 // 3 // 2 * 2)
            finals = [await next_of(ws, "final")]  # at least one final before the connection drops
        return session_id, finals

    async def second_half(session_id: str, after_index: int) -> LiveRun:
        run = LiveRun(session_id=session_id)
        async with connect(live_stack, chaos_client) as ws:
            await ws.send(json.dumps({"type": "resume", "session_id": session_id, "after_index": after_index}))
            ready = await next_of(ws, "ready")
            assert ready["session_id"] == session_id
            run.started_at = time.monotonic()
            receiving = asyncio.create_task(receive_until_ended(ws, run))
            await send_paced(ws, pcm, rate, start_byte=round(ready["received_s"] * rate) * 2)
            await ws.send(json.dumps({"type": "stop"}))
            await asyncio.wait_for(receiving, 180)
        return run

    session_id, before = await first_half()
    after = await second_half(session_id, before[-1]["index"])
    finals = before + after.finals
    assert [f["index"] for f in finals] == list(range(len(finals)))
    assert after.ended is not None
    await transcript_checks(await nats_on(live_stack), live_stack, session_id, finals)


async def test_bad_input_gets_coded_errors_and_other_sessions_are_unaffected(live_stack, chaos_client, nats_on):
    pcm, rate = read_pcm(AUDIO / "short_meeting.wav")

    async def bad_client() -> list[str]:
        codes = []
        async with connect(live_stack, chaos_client) as ws:
            await ws.send(b"\x00\x01" * 800)  # audio before start
            codes.append((await next_of(ws, "error"))["code"])
            await ws.send("{not json")
            codes.append((await next_of(ws, "error"))["code"])
            await ws.send(json.dumps({"type": "start", "sample_rate": 12345}))
            codes.append((await next_of(ws, "error"))["code"])
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "language": "en"}))
            await next_of(ws, "ready")
            await ws.send(b"\x00\x01\x02")  # half a sample
            codes.append((await next_of(ws, "error"))["code"])
            await ws.send(bytes(2 * 16000 * (MAX_SESSION_S + 1)))  # longer than a session may last
            codes.append((await next_of(ws, "error"))["code"])
            ended = await next_of(ws, "ended", timeout_s=120)
            codes.append(ended["reason"])
        return codes

    async def both() -> tuple[list[str], LiveRun]:
        started = asyncio.Event()
        good = asyncio.create_task(stream(ws_url(live_stack), key_of(chaos_client), pcm, rate, started=started))
        await asyncio.wait_for(started.wait(), 60)  # the good session runs on a worker before the bad input comes
        return await bad_client(), await good

    codes, good = await both()
    assert codes == [
        "start_required",
        "malformed_message",
        "unsupported_sample_rate",
        "malformed_audio_frame",
        "session_too_long",
        "max_duration",
    ]
    assert good.ended is not None and good.ended["reason"] == "stopped"
    await transcript_checks(await nats_on(live_stack), live_stack, good.session_id, good.finals)


async def test_without_a_valid_key_or_a_free_worker_a_session_is_refused_with_a_code(live_stack, chaos_client):
    async def refused(headers: dict, first: str | None = None) -> str:
        async with websockets.connect(ws_url(live_stack), additional_headers=headers) as ws:
            if first is not None:
                await ws.send(first)
            return (await next_of(ws, "error"))["code"]

    assert await refused({}) == "unauthorized"
    assert await refused({}, json.dumps({"type": "auth", "api_key": "vl_nope"})) == "invalid_api_key"

    async def capacity() -> str:
        # Two workers with room for one session each: a third session waits, then is refused.
        async with connect(live_stack, chaos_client) as one, connect(live_stack, chaos_client) as two:
            for ws in (one, two):
                await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
                await next_of(ws, "ready")
            async with connect(live_stack, chaos_client) as three:
                await three.send(json.dumps({"type": "start", "sample_rate": 16000}))
                code = (await next_of(three, "error"))["code"]
            for ws in (one, two):
                await ws.send(json.dumps({"type": "stop"}))
                await next_of(ws, "ended")
        return code

    assert await capacity() == "no_live_capacity"

    async def browser_auth() -> str:
        async with websockets.connect(ws_url(live_stack)) as ws:
            await ws.send(json.dumps({"type": "auth", "api_key": key_of(chaos_client)}))
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
            ready = await next_of(ws, "ready")
            await ws.send(json.dumps({"type": "stop"}))
            await next_of(ws, "ended")
            return ready["type"]

    assert await browser_auth() == "ready"


async def _register_and_await_end(nc, stack, specs: list[LiveSessionSpec], frame: bytes | None = None) -> dict:
    """Registers sessions the way the gateway does (bypassing its validation of `start`), optionally with one
    stored audio frame each, and returns each session's events once it has ended (the end is awaited, not polled).
    `nc`: a connection to `stack` as `provision`."""
    vault = await stack_vault(nc, stack)
    js, bus = nc.jetstream(), LiveBus(nc, vault)
    session_ids = [new_id() for _ in specs]
    for session_id, spec in zip(session_ids, specs, strict=True):
        if frame is not None:
            await bus.publish_audio(session_id, 0, frame)
        await bus.register(session_id, spec)
        stored = await js.get_last_msg(f"KV_{LIVE_SESSIONS_BUCKET}", f"$KV.{LIVE_SESSIONS_BUCKET}.{session_id}")
        assert stored.headers["Nats-TTL"] == str(int(LIVE_SESSION_TTL_S)), "a registration nobody holds expires"

    async def ended(session_id: str) -> list:
        sub = await js.subscribe(
            subjects.aggregate_filter(subjects.RECORDING, session_id),
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        history = []
        while not history or history[-1].envelope.type != "LiveSessionEnded":
            history.append(await vault.decode((await sub.next_msg(timeout=90)).data))
        await sub.unsubscribe()
        return history

    histories = await asyncio.gather(*(ended(session_id) for session_id in session_ids))
    specs_left = await js.key_value(LIVE_SESSIONS_BUCKET)
    for session_id in session_ids:
        await _removed(specs_left, session_id)  # the registration goes: no worker claims it again
    return dict(zip(session_ids, histories, strict=True))


async def _removed(registrations, session_id: str, timeout_s: float = 10) -> None:
    """The worker removes a registration just after appending the session's end, so it goes a moment later."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            await registrations.get(session_id)
        except KeyNotFoundError:
            return
        assert loop.time() < deadline, "the registration stayed after the session ended: a worker would claim it again"
        await asyncio.sleep(0.05)


def _spec(**changes) -> LiveSessionSpec:
    options = TranscriptionOptions(model=BROKEN_MODEL, language="en")
    spec = LiveSessionSpec(
        tenant_id="live-chaos-bad", job_id=new_id(), sample_rate=16000, encoding="pcm_s16le", options=options
    )
    return msgspec.structs.replace(spec, **changes)


async def test_sessions_whose_model_cannot_load_end_at_once_and_a_good_session_is_still_served(
    live_stack, chaos_client, nats_on
):
    """Two bad-model sessions used to hold both workers (one session each) forever; now each ends with a code."""
    nc = await nats_on(live_stack)
    started = time.monotonic()
    histories = await _register_and_await_end(nc, live_stack, [_spec(), _spec()])
    assert time.monotonic() - started < 30, "a session whose model cannot load ends at once"
    for history in histories.values():
        types = [m.envelope.type for m in history]
        assert types == ["LiveSessionStarted", "TranscriptionFailed", "LiveSessionEnded"], types
        failed, ended = history[1].body, history[2].body
        assert failed.error_code == "model_unavailable" and "nonexistent" not in failed.message
        assert ended.reason == "failed"

    async def bad_then_good() -> tuple[list[dict], LiveRun]:
        async with connect(live_stack, chaos_client) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "model": BROKEN_MODEL}))
            messages = [json.loads(await asyncio.wait_for(ws.recv(), 60)) for _ in range(3)]
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 30)
            assert closed.value.rcvd.code == 1011, "the gateway closes a session that failed"
        pcm, rate = read_pcm(AUDIO / "short_meeting.wav")
        return messages, await stream(ws_url(live_stack), key_of(chaos_client), pcm, rate)

    messages, good = await bad_then_good()
    assert [m["type"] for m in messages] == ["ready", "error", "ended"], messages
    assert (messages[1]["code"], messages[1]["fatal"], messages[2]["reason"]) == ("model_unavailable", True, "failed")
    assert good.ended is not None and good.ended["reason"] == "stopped"
    await transcript_checks(nc, live_stack, good.session_id, good.finals)


async def test_a_session_that_fails_on_every_try_ends_as_failed_instead_of_being_reclaimed_forever(live_stack, nats_on):
    """A sample rate of 0 breaks every pass over its audio: retried a bounded number of times, then ended."""
    histories = await _register_and_await_end(
        await nats_on(live_stack), live_stack, [_spec(sample_rate=0, options=TranscriptionOptions())], bytes(3200)
    )
    (history,) = histories.values()
    claims = [m for m in history if m.envelope.type in ("LiveSessionStarted", "LiveSessionTakenOver")]
    assert 1 <= len(claims) <= 2 * 3, "at most live_max_attempts holds on each of the two workers"
    failed, ended = history[-2].body, history[-1].body
    assert (failed.error_code, ended.reason) == ("live_session_failed", "failed")
