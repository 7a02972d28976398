"""Deletion that erases: after a delete, no word of a recording is readable anywhere.

Not through the API, not after a replay of the read models, not in the raw bytes of any stream or bucket,
and not in any file of the data directory, with the master key file in hand: the data key, the audio, what
the person typed (filename, prompt, hotwords) and the read models' rows are gone from the disk (tests/disk.py).
The log itself stays complete (job timing and statuses are still there); its content is sealed with the
recording's data key (AES-256-GCM), and the delete erased that key.
"""

import nats
from nats.js import api as js_api

from tests.disk import row_files_holding, stored_anywhere, stored_key_and_audio, unique_wav
from tests.helpers import (
    AUDIO,
    audio_removed,
    audio_stored,
    cli,
    eventually_async,
    log_events,
    read_events,
    reference,
    stack_vault,
    upload,
    wait_job,
    wait_logged,
)
from tests.wer import BATCH_WER, assert_wer, words
from voxledger.contracts import sealing, subjects
from voxledger.contracts.ids import new_id
from voxledger.contracts.streams import DATA_KEYS_BUCKET, LIVE_AUDIO
from voxledger.gateway.adapters.live import LiveBus
from voxledger.runtime.crypto import DataCipher, MasterKeys, ensure_master_key
from voxledger.runtime.provisioning import provision
from voxledger.runtime.vault import Vault
from voxledger.stack.embedded import NatsServer

# Words of the fixture long enough that random ciphertext (base64) never spells one by chance.
CONTENT_WORDS = ["budget", "quarter", "morning", "everyone", "review", "afternoon"]


async def _messages(js, name: str, subjects_: list[str], workqueue: bool) -> list[tuple[str, bytes]]:
    """Every stored message of a stream as (subject, raw bytes: headers and payload)."""
    if workqueue:  # a workqueue stream takes no second consumer: read it message by message
        state = (await js.stream_info(name)).state
        found = []
        for seq in range(state.first_seq, state.last_seq + 1):
            try:
                msg = await js.get_msg(name, seq)
            except Exception:  # acked (removed) meanwhile
                continue
            found.append((msg.subject or "", repr(msg.headers).encode() + (msg.data or b"")))
        return found
    found = []
    for subject in subjects_:
        sub = await js.subscribe(
            subject,
            stream=name,
            ordered_consumer=True,
            config=js_api.ConsumerConfig(deliver_policy=js_api.DeliverPolicy.ALL),
        )
        try:
            info = await sub.consumer_info()
            delivered = info.delivered.consumer_seq if info.delivered else 0
            if (info.num_pending or 0) + (delivered or 0) == 0:  # some may be delivered already
                continue
            while True:
                msg = await sub.next_msg(timeout=30)
                found.append((msg.subject, repr(msg.headers).encode() + msg.data))
                if msg.metadata.num_pending == 0:
                    break
        finally:
            await sub.unsubscribe()
    return found


async def everything_stored(nc) -> dict[str, list[tuple[str, bytes]]]:
    """Every message of every stream: EVENTS, COMMANDS, LIVE_AUDIO, WEBHOOKS, and each KV and object bucket."""
    js = nc.jetstream()
    stored = {}
    for info in await js.streams_info():
        workqueue = info.config.retention == js_api.RetentionPolicy.WORK_QUEUE
        stored[info.config.name] = await _messages(js, info.config.name, info.config.subjects or [], workqueue)
    return stored


def mentions(stored: dict[str, list[tuple[str, bytes]]], needle: str, recording_id: str | None = None) -> list[str]:
    """Where `needle` is stored (of the messages about `recording_id`, if given)."""
    return [
        f"{stream}: {subject}"
        for stream, messages in stored.items()
        for subject, raw in messages
        if needle.encode() in raw and (recording_id is None or recording_id in subject or recording_id.encode() in raw)
    ]


async def store_live_frame(nc, stack, recording_id: str, frame: bytes) -> bytes:
    """Stores a frame of the recording's live audio as the gateway does; returns the bytes stored."""
    await LiveBus(nc, await stack_vault(nc, stack)).publish_audio(recording_id, 0, frame)
    stored = await nc.jetstream().get_last_msg(LIVE_AUDIO.name, subjects.live_audio_subject(recording_id))
    return stored.data or b""


def _upload(client, filename: str, audio: bytes, idempotency_key: dict[str, str], **typed: str):
    files = {"file": (filename, audio)}
    return client.post("/v1/recordings", files=files, data={"language": "en", **typed}, headers=idempotency_key)


async def assert_erased_from_disk(stack, recording_id: str, token: str, kept: dict[str, bytes]) -> None:
    """After the delete has been applied everywhere: none of it in any file, nor the recording's rows."""
    found = await stored_anywhere(stack, {**kept, "typed": token.encode()})
    assert not found, f"still on disk: {found}"
    assert not await row_files_holding(stack, recording_id), "the read models' files keep none of its rows"


async def test_a_deleted_recording_leaves_no_word_readable_anywhere(stack, client, nc):
    token = f"erasure{new_id().replace('-', '')[-12:]}"  # a word nobody else ever stored
    filename, retry, wav = f"{token}.wav", {"Idempotency-Key": token}, unique_wav(AUDIO / "short_meeting.ogg")
    typed = {"prompt": f"Minutes of {token}.", "hotwords": token}  # what a person typed, sealed like the filename
    accepted = _upload(client, filename, wav, retry, **typed)
    assert accepted.status_code == 202, accepted.text
    rec, job = accepted.json()["recording_id"], accepted.json()["job_id"]
    assert wait_job(client, job)["status"] == "completed"
    await wait_logged(nc, stack, rec, "InsightsCompleted", timeout_s=90)
    await wait_logged(nc, stack, rec, "PassagesEmbedded", timeout_s=90)

    # Before the delete the content is readable through the API (and SSE opens the sealed segments) ...
    text = client.get(f"/v1/recordings/{rec}/transcript").json()["text"]
    assert_wer(reference("short_meeting.ogg"), text, BATCH_WER)
    heard = [w for w in CONTENT_WORDS if w in words(text)]
    assert heard, f"the model heard none of {CONTENT_WORDS}: {text!r}"
    assert client.get(f"/v1/recordings/{rec}").json()["filename"] == filename
    assert client.get(f"/v1/jobs/{job}").json()["options"]["hotwords"] == token, "sealed, and opened for its reader"
    assert rec in {h["recording_id"] for h in client.get("/v1/search", params={"q": heard[0]}).json()["items"]}
    insights = client.get(f"/v1/recordings/{rec}/insights")
    assert insights.status_code == 200 and heard[0] in insights.text.lower()
    streamed = read_events(client, rec, until="TranscriptionCompleted", job_id=job)
    assert heard[0] in " ".join(
        s["text"] for e in streamed if e["type"] == "SegmentsTranscribed" for s in e["data"]["segments"]
    )
    # ... but the log never held it in clear: only ciphertext, and the data key is in its bucket. A frame of
    # live audio (here a distinctive byte pattern standing in for speech) is sealed too.
    frame = token.encode() * 100
    assert token.encode() not in await store_live_frame(nc, stack, rec, frame)
    before = await everything_stored(nc)
    assert [s for s, _ in before["EVENTS"] if rec in s], "the scan reads the log"
    assert mentions(before, "content_type", rec), "the scan sees what is in clear (the content type)"
    assert not mentions(before, token), "the filename, prompt and hotwords are sealed"
    assert not [w for w in heard if mentions(before, w, rec)], "the transcript and insights are sealed"
    assert [s for s, _ in before[f"KV_{DATA_KEYS_BUCKET}"] if s.endswith(rec)], "the recording has a data key"
    # The files: the key (wrapped) in its bucket's blocks, the audio in the object store's, the typed words in
    # the read models (PostgreSQL) and nowhere in the log; the scan finds each before the delete.
    key, audio = await stored_key_and_audio(nc, rec)
    found = await stored_anywhere(stack, {"key": key, "audio": audio, "typed": token.encode()})
    assert found.keys() == {"key", "audio", "typed"}, found
    assert not [f for f in found["typed"] if not f.startswith("postgres/")], "the log keeps no typed word in clear"
    assert await row_files_holding(stack, rec), "the scan sees the recording's rows in the read models' files"

    deleted = client.delete(f"/v1/recordings/{rec}")
    assert deleted.status_code == 202
    history = await wait_logged(nc, stack, rec, "RecordingDeleted", timeout_s=30)
    await eventually_async(lambda: audio_removed(nc, rec), "the audio blob removed", 10)

    # The log stays complete for accounting, but what was sealed now reads as erased, for good.
    types = [m.envelope.type for m in history]
    assert {"TranscriptionCompleted", "SegmentsTranscribed", "InsightReady", "PassagesEmbedded"} <= set(types)
    sealed = [m for m in history if m.envelope.type in sealing.SEALED_FIELDS]
    assert sealed and all(m.erased for m in sealed)

    # The API: nothing, and a retried upload (same Idempotency-Key) does not bring the audio back.
    params = {"min_seq": deleted.headers["X-Consistency-Token"]}
    assert client.get(f"/v1/recordings/{rec}", params=params).status_code == 404
    for path in (f"/v1/recordings/{rec}/transcript", f"/v1/recordings/{rec}/insights", f"/v1/jobs/{job}"):
        assert client.get(path).status_code == 404, path
    for word in heard:
        assert rec not in {h["recording_id"] for h in client.get("/v1/search", params={"q": word}).json()["items"]}
    again = _upload(client, filename, wav, retry, **typed)
    assert again.status_code == 409 and again.json()["code"] == "recording_deleted", again.text
    assert not await audio_stored(nc, rec)

    # A replay rebuilds the read models from the whole log: the recording stays gone.
    assert "swapped in" in cli(stack, "replay")
    assert rec not in cli(stack, "projections", "quarantine"), "an erased event is no poison"
    assert client.get(f"/v1/recordings/{rec}").status_code == 404
    assert rec not in {r["recording_id"] for r in client.get("/v1/recordings").json()["items"]}

    # The raw bytes of every stream and bucket: the key is gone, and no word is stored in clear.
    after = await everything_stored(nc)
    assert not [s for s, raw in after[f"KV_{DATA_KEYS_BUCKET}"] if s.endswith(rec) and b"wrapped" in raw]
    assert not mentions(after, token)
    assert not [s for s, _ in after[LIVE_AUDIO.name] if rec in s], "the live audio purged"
    assert not [w for w in heard if mentions(after, w, rec)]
    # Every file under the data directory: once the projector has applied the delete (an upload after it is
    # visible, so its batch, and the erasure that follows a delete's, are done), the key, the audio, the typed
    # words and the rows are nowhere.
    assert upload(client, "short_meeting.ogg", transcribe="false").status_code == 202, "the stack goes on as before"
    await assert_erased_from_disk(stack, rec, token, {"key": key, "audio": audio})


async def test_rotating_the_master_key_rewraps_every_data_key_and_keeps_content_readable(stack, client, nc):
    async def filename_in_log(recording_id: str) -> str:
        (uploaded,) = [m for m in await log_events(nc, stack, recording_id) if m.envelope.type == "RecordingUploaded"]
        assert not uploaded.erased
        return uploaded.body.filename

    before = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    wrapped_by_old, _ = await stored_key_and_audio(nc, before)
    rotated = cli(stack, "keys", "rotate-master")
    assert " data keys re-wrapped" in rotated and "kept until --retire" in rotated, rotated
    assert not await stored_anywhere(stack, {"old": wrapped_by_old}), "the revision a re-wrap replaced is erased"
    assert await filename_in_log(before) == "short_meeting.ogg"
    during = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]  # on the new key

    retired = cli(stack, "keys", "rotate-master", "--retire")
    assert "older master keys removed" in retired, retired
    for recording_id in (before, during):
        assert await filename_in_log(recording_id) == "short_meeting.ogg", "readable with the new master key alone"
    after = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    assert await filename_in_log(after) == "short_meeting.ogg"


async def test_provisioning_remakes_a_data_keys_bucket_that_denies_deletes_keeping_every_key_and_marker(tmp_path):
    """A bucket made before erasure (nats-py's, denying message deletes for good) is made anew by provisioning:
    the keys still open what they sealed, a destroyed key stays destroyed, and a destroy now erases."""
    nats_server = NatsServer(tmp_path / "nats").start()
    try:
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            old = await js.create_key_value(js_api.KeyValueConfig(bucket=DATA_KEYS_BUCKET))
            master = MasterKeys(ensure_master_key(tmp_path / "master.key"))
            kept, destroyed = new_id(), new_id()
            await old.put(kept, master.wrap(kept, data_key := DataCipher.new_key()))
            await old.put(destroyed, master.wrap(destroyed, DataCipher.new_key()))
            await old.purge(destroyed)

            await provision(js)
            info = await js.stream_info(f"KV_{DATA_KEYS_BUCKET}")
            assert not info.config.deny_delete and info.config.max_msgs_per_subject == 2
            vault = Vault(nc, master)
            assert (await vault.cipher(kept)) is not None
            assert (
                master.unwrap(kept, (await (await js.key_value(DATA_KEYS_BUCKET)).get(kept)).value or b"")[0]
                == data_key
            )
            assert await vault.erased(destroyed), "the purge marker came along: never a fresh key"
            await vault.destroy(kept)
            assert await Vault(nc, master).erased(kept)
        finally:
            await nc.close()
    finally:
        nats_server.stop()
    blocks = b"".join(p.read_bytes() for p in (tmp_path / "nats").rglob("*.blk"))
    assert b"wrapped" not in blocks, "no wrapped key left in any block file"
