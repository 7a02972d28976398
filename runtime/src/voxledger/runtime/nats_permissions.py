"""Who may publish and subscribe to what on NATS: one identity per role, and the nats-server config for them.

The table is plain data, so the embedded stack, the deploy manifests and the tests all use the same one.
A JetStream call is a request to a `$JS.API.<op>.<stream>...` subject, answered on the caller's `_INBOX`;
KV and object-store writes are publishes to `$KV.<bucket>.<key>` and `$O.<bucket>.<C|M>.<id>`. So reading a
stream is publishing to its API subjects, and appending is publishing to its own subjects: nothing outside
a role's allow list gets through (nats-server answers with a permissions violation).
"""

from typing import Any

import msgspec

from voxledger.contracts import streams, subjects

API = "$JS.API"
INBOX = "_INBOX.>"


class Permissions(msgspec.Struct, frozen=True, kw_only=True):
    publish: tuple[str, ...]
    subscribe: tuple[str, ...] = (INBOX,)
    deny_publish: tuple[str, ...] = ()  # spelled out for the reader: these never pass, whatever else allows


def stream_read(stream: str) -> tuple[str, ...]:
    """Read a stream: found by subject, info, direct and stored message gets, consumers, pulls, acks."""
    return (
        f"{API}.STREAM.NAMES",
        f"{API}.STREAM.INFO.{stream}",
        f"{API}.STREAM.MSG.GET.{stream}",
        f"{API}.DIRECT.GET.{stream}",
        f"{API}.DIRECT.GET.{stream}.>",
        f"{API}.CONSUMER.CREATE.{stream}",
        f"{API}.CONSUMER.CREATE.{stream}.>",
        f"{API}.CONSUMER.DURABLE.CREATE.{stream}.>",
        f"{API}.CONSUMER.DELETE.{stream}.>",
        f"{API}.CONSUMER.INFO.{stream}.>",
        f"{API}.CONSUMER.MSG.NEXT.{stream}.>",
        f"$JS.ACK.{stream}.>",
        f"$JS.FC.{stream}.>",
    )


def kv(bucket: str) -> tuple[str, ...]:
    """Read and write one KV bucket (its stream is KV_<bucket>)."""
    return (*stream_read(f"KV_{bucket}"), f"$KV.{bucket}.>")


def objects(bucket: str, write: bool) -> tuple[str, ...]:
    """One object store (its stream is OBJ_<bucket>); writing includes deleting, which purges the chunks."""
    read = stream_read(f"OBJ_{bucket}")
    return (*read, f"$O.{bucket}.>", f"{API}.STREAM.PURGE.OBJ_{bucket}") if write else read


def events_of(aggregate: str) -> str:
    return f"{subjects.EVENTS_PREFIX}.{aggregate}.>"


EVENTS = stream_read(streams.EVENTS.name)
COMMANDS = stream_read(streams.COMMANDS.name)
LIVE_AUDIO = stream_read(streams.LIVE_AUDIO.name)
ALL_EVENTS = f"{subjects.EVENTS_PREFIX}.>"
ALL_COMMANDS = f"{subjects.COMMANDS_PREFIX}.>"
KEY_EVENTS = events_of(subjects.API_KEY)
CONSUMER_INFO = tuple(f"{API}.CONSUMER.INFO.{s.stream}.{s.durable}" for s in streams.CONSUMERS)
LEASES = kv(streams.LEASES_BUCKET)
# Per-recording data keys: read and written by everything that handles a recording's content, and watched
# (a core subscription to the bucket's subjects) so that a destroyed key leaves every process's cache at once.
DATA_KEYS = kv(streams.DATA_KEYS_BUCKET)
DATA_KEYS_WATCH = f"$KV.{streams.DATA_KEYS_BUCKET}.>"
PURGE_LIVE_AUDIO = f"{API}.STREAM.PURGE.{streams.LIVE_AUDIO.name}"
# A delete erases the recording's data key and its audio's chunks from the disk, message by message.
ERASE = (
    f"{API}.STREAM.MSG.DELETE.KV_{streams.DATA_KEYS_BUCKET}",
    f"{API}.STREAM.MSG.DELETE.OBJ_{streams.AUDIO_BUCKET}",
)
TRANSCRIPTION_WORK_ADVISORY = (
    "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."
    f"{streams.TRANSCRIPTION_WORK.stream}.{streams.TRANSCRIPTION_WORK.durable}"
)
# The fair dispatcher's queue: dispatched into, pulled by the workers, spent work deleted after max deliveries.
WORK = (
    *stream_read(streams.WORK.name),
    f"{subjects.WORK_TRANSCRIBE_PREFIX}.>",
    f"{API}.STREAM.MSG.DELETE.{streams.WORK.name}",
)

ROLES: dict[str, Permissions] = {
    # Provisioning, the operator's admin commands and the tests' direct connections: everything but key events.
    "provision": Permissions(publish=(">",), subscribe=(">",), deny_publish=(KEY_EVENTS,)),
    # Commands and live audio in; events out to clients (SSE, revocations, key resolver); never an event append.
    "gateway": Permissions(
        publish=(
            ALL_COMMANDS,
            f"{subjects.LIVE_AUDIO_PREFIX}.>",
            *EVENTS,
            *LIVE_AUDIO,
            *CONSUMER_INFO,
            f"{API}.STREAM.INFO.{streams.COMMANDS.name}",
            f"{API}.STREAM.INFO.{streams.WEBHOOKS.name}",
            *kv(streams.IDEMPOTENCY_BUCKET),
            *kv(streams.LIVE_SESSIONS_BUCKET),
            *objects(streams.AUDIO_BUCKET, write=True),
            *DATA_KEYS,
            *LEASES,  # the retention scheduler runs in one gateway at a time, under a lease
        ),
        subscribe=(INBOX, f"{subjects.LIVE_INTERIM_PREFIX}.>", DATA_KEYS_WATCH),
        deny_publish=(ALL_EVENTS,),
    ),
    # Recording commands decided into recording events; jobs pulled from EVENTS; audio read (and deleted).
    "transcriber": Permissions(
        publish=(
            events_of(subjects.RECORDING),
            *EVENTS,
            *COMMANDS,
            *LEASES,
            *objects(streams.AUDIO_BUCKET, write=True),
            *DATA_KEYS,
            PURGE_LIVE_AUDIO,  # a delete purges the recording's live audio (sealed with the erased key)
            *ERASE,
            *WORK,
        ),
        subscribe=(
            INBOX,
            DATA_KEYS_WATCH,
            subjects.event_type_filter(subjects.RECORDING, "TranscriptionCancelRequested"),  # a running job stops
            subjects.event_type_filter(subjects.RECORDING, "TranscriptionCancelled"),  # its queued work is dropped
            TRANSCRIPTION_WORK_ADVISORY,
        ),
        deny_publish=(ALL_COMMANDS,),
    ),
    # Live sessions: claimed through the registry and a lease, audio followed and purged, finals appended.
    "live": Permissions(
        publish=(
            events_of(subjects.RECORDING),
            f"{subjects.LIVE_INTERIM_PREFIX}.>",
            *EVENTS,
            *LIVE_AUDIO,
            PURGE_LIVE_AUDIO,
            *LEASES,
            *kv(streams.LIVE_SESSIONS_BUCKET),
            *objects(streams.AUDIO_BUCKET, write=True),
            *DATA_KEYS,
        ),
        subscribe=(INBOX, DATA_KEYS_WATCH),
        deny_publish=(ALL_COMMANDS,),
    ),
    # Insight events on the recording aggregate.
    "postproc": Permissions(
        publish=(events_of(subjects.RECORDING), *EVENTS, *LEASES, *DATA_KEYS),
        subscribe=(INBOX, DATA_KEYS_WATCH),
        deny_publish=(ALL_COMMANDS,),
    ),
    # Reads the log and holds the projection lease; appends nothing.
    "projector": Permissions(
        publish=(*EVENTS, *LEASES, *DATA_KEYS),
        subscribe=(INBOX, DATA_KEYS_WATCH),
        deny_publish=(ALL_EVENTS, ALL_COMMANDS),
    ),
    # Webhook endpoint and delivery events, the WEBHOOKS work stream, and tenant settings (retention).
    "webhooks": Permissions(
        publish=(
            events_of(subjects.TENANT),
            events_of(subjects.WEBHOOK),
            events_of(subjects.WEBHOOK_DELIVERY),
            f"{subjects.WEBHOOK_WORK_PREFIX}.>",
            *EVENTS,
            *COMMANDS,
            *stream_read(streams.WEBHOOKS.name),
        ),
        deny_publish=(ALL_COMMANDS,),
    ),
    # The key command handler: the only identity that may append key events.
    "keys": Permissions(publish=(KEY_EVENTS, *EVENTS, *COMMANDS), deny_publish=(ALL_COMMANDS,)),
}


def server_authorization(public_keys: dict[str, str]) -> dict[str, Any]:
    """nats-server's `authorization` block: one nkey user per role, with that role's permissions."""
    users = []
    for role, nkey in public_keys.items():
        p = ROLES[role]
        publish: dict[str, list[str]] = {"allow": list(p.publish)}
        if p.deny_publish:
            publish["deny"] = list(p.deny_publish)
        users.append({"nkey": nkey, "permissions": {"publish": publish, "subscribe": {"allow": list(p.subscribe)}}})
    return {"users": users}
