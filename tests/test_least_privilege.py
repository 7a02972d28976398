"""Least privilege on the real servers of the shared stack: each service's NATS identity is refused by
nats-server for a subject outside its role (runtime/nats_permissions.py), only the key command handler's
identity appends key events, the gateway's PostgreSQL role only reads (also the tables a replay swaps in),
services without a database have no database URL at all, and nothing gets in without credentials."""

import asyncio
import stat
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import nats
import nats.errors
import pytest

from tests.helpers import cli
from voxledger.contracts import streams
from voxledger.projector.adapters.postgres import TABLES
from voxledger.runtime import keys
from voxledger.runtime.eventstore import EventStore
from voxledger.runtime.nats_permissions import ROLES
from voxledger.stack.embedded import PostgresServer
from voxledger.stack.secrets import Secrets
from voxledger.stack.supervisor import DATABASE_USERS, SERVICES

# (role, "pub" or "sub", subject): each must be refused. Refused publishes never reach a stream, so nothing
# here lands in the shared stack's log (if one did, this test fails before anything reads it).
REFUSED = [
    ("gateway", "pub", "vl.evt.rec.x.TranscriptionCompleted"),  # the gateway cannot forge events
    ("gateway", "pub", "vl.evt.key.x.ApiKeyIssued"),
    ("gateway", "sub", "vl.evt.>"),
    ("gateway", "pub", "$JS.API.STREAM.PURGE.EVENTS"),
    ("gateway", "pub", "$JS.API.CONSUMER.CREATE.COMMANDS"),
    ("gateway", "pub", "vl.work.transcribe.TranscriptionRequested"),  # only the transcribers' dispatcher queues work
    ("projector", "pub", "vl.cmd.rec.UploadRecording"),  # the projector only reads
    ("projector", "pub", "vl.evt.rec.x.TranscriptionCompleted"),
    ("projector", "sub", "vl.cmd.>"),
    ("projector", "pub", "$O.audio.M.x"),
    ("transcriber", "pub", "vl.cmd.rec.UploadRecording"),
    ("transcriber", "pub", "vl.evt.key.x.ApiKeyRevoked"),
    ("transcriber", "pub", "$JS.API.STREAM.INFO.WEBHOOKS"),
    ("transcriber", "pub", "$JS.API.STREAM.MSG.DELETE.EVENTS"),  # it erases keys and audio, never the log
    ("gateway", "pub", "$JS.API.STREAM.MSG.DELETE.KV_data_keys"),  # only a delete's handler erases a key
    ("live", "pub", "vl.evt.wh.x.WebhookCreated"),
    ("live", "pub", "$KV.idempotency.x"),
    ("postproc", "pub", "vl.live.audio.x"),
    ("postproc", "pub", "$JS.API.STREAM.DELETE.EVENTS"),
    ("postproc", "pub", "$JS.API.CONSUMER.MSG.NEXT.WORK.transcription-work"),
    ("webhooks", "pub", "vl.evt.rec.x.TranscriptionCompleted"),
    ("webhooks", "pub", "vl.evt.key.x.ApiKeyIssued"),
    ("keys", "pub", "vl.evt.rec.x.TranscriptionCompleted"),
    ("keys", "pub", "$O.audio.M.x"),
    ("provision", "pub", "vl.evt.key.x.ApiKeyIssued"),  # not even the admin identity appends key events
]
# Only the key command handler's identity appends key events: every other one is refused.
REFUSED += [(role, "pub", "vl.evt.key.y.ApiKeyRevoked") for role in ROLES if role != "keys"]


async def _violations(stack, role: str, cases: list[tuple[str, str]]) -> list[str]:
    """What nats-server reports for `role` trying each (op, subject): one error line per refusal."""
    reported: asyncio.Queue[str] = asyncio.Queue()

    async def on_error(err: Exception) -> None:
        reported.put_nowait(str(err))

    access = stack.nats_as(role)
    nc = await nats.connect(access.url, name=f"probe-{role}", error_cb=on_error, **access.options())
    try:
        for op, subject in cases:
            if op == "pub":
                await nc.publish(subject, b"{}")
            else:
                await nc.subscribe(subject)
        await nc.flush()  # the server answers each PUB or SUB in order: every refusal is in before the PONG
        return [await asyncio.wait_for(reported.get(), 5) for _ in cases]
    finally:
        await nc.close()


async def test_each_identity_is_refused_outside_its_role_and_only_keys_appends_key_events(stack, nats_on):
    async def probe() -> dict[str, list[str]]:
        by_role: dict[str, list[tuple[str, str]]] = {}
        for role, op, subject in REFUSED:
            by_role.setdefault(role, []).append((op, subject))
        return {role: await _violations(stack, role, cases) for role, cases in by_role.items()}

    reported = await probe()
    for role, op, subject in REFUSED:
        kind = "publish" if op == "pub" else "subscription"
        expected = f'permissions violation for {kind} to "{subject}"'.lower()  # nats-py lower-cases the error
        assert any(expected in line for line in reported[role]), f"{role} {op} {subject}: {reported[role]}"

    async def allowed() -> dict[str, int]:
        heads = {}
        for role in ROLES:  # every identity reads the log (a JetStream API request) ...
            nc = await nats_on(stack, role)
            heads[role] = (await nc.jetstream().stream_info(streams.EVENTS.name)).state.last_seq
            if role == "keys":  # ... and the key command handler's appends a real key event, acknowledged
                key = keys.new_key("least-privilege", "read")
                await keys.issue(EventStore(nc.jetstream()), "least-privilege", key.key_id, key.event)
                history, _ = await EventStore(nc.jetstream()).load("key", key.key_id)
                assert [m.envelope.type for m in history] == ["ApiKeyIssued"]
        return heads

    assert set(await allowed()) == set(ROLES)


async def test_nothing_connects_without_credentials_and_the_secrets_are_owner_only(stack):
    async def anonymous() -> None:
        await nats.connect(stack.nats_url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)

    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await anonymous()

    dsn = urlsplit(stack.database_url)  # the schema owner, with a wrong password: scram refuses it
    without_password = f"postgresql://{dsn.username}@{dsn.hostname}:{dsn.port}{dsn.path}"
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(without_password, password="wrong")

    secrets_dir = stack.data_dir / "secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    files = list(secrets_dir.iterdir())
    assert len(files) >= len(ROLES) + 3
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files), [oct(f.stat().st_mode) for f in files]
    config = (stack.data_dir / "nats" / "nats.conf").read_text()
    seeds = [f.read_text().strip() for f in files if f.name.endswith(".nk")]
    assert seeds and not any(seed in config for seed in seeds), "the server config holds public keys only"


async def test_only_the_gateway_and_projector_get_a_database_and_the_gateway_only_reads(stack):
    assert {p.name for p in stack.processes} == set(SERVICES)
    for p in stack.processes:  # the environment each running process really has
        environ = Path(f"/proc/{p.proc.pid}/environ").read_bytes().split(b"\0")
        names = {entry.split(b"=", 1)[0].decode() for entry in environ if entry}
        assert ("DATABASE_URL" in names) == (p.name in DATABASE_USERS), p.label
    assert set(DATABASE_USERS) == {"gateway", "projector"}

    async def as_gateway(statements: list[str]) -> list[str]:
        conn = await asyncpg.connect(stack.reader_database_url)
        refused = []
        try:
            for table in TABLES:
                await conn.fetch(f"SELECT * FROM {table} LIMIT 1")  # every read model is readable
            for sql in statements:
                try:
                    await conn.execute(sql)
                except asyncpg.InsufficientPrivilegeError:
                    refused.append(sql)
        finally:
            await conn.close()
        return refused

    writes = [
        "INSERT INTO api_keys (key_id) VALUES ('00000000-0000-0000-0000-000000000000')",
        "UPDATE recordings SET filename = 'x' WHERE false",  # refused before any row is looked at
        "DELETE FROM jobs WHERE false",
        "TRUNCATE segments",
        "CREATE TABLE sneaky (id int)",
        "UPDATE projection_checkpoints SET last_seq = 0",
    ]
    assert await as_gateway(writes) == writes
    # A replay builds fresh tables and swaps them in: the gateway still reads them all, and still only reads.
    cli(stack, "replay")
    assert await as_gateway(writes[:2]) == writes[:2]


async def test_a_data_dir_from_before_credentials_gets_a_scram_cluster_and_keeps_the_old_one_aside(tmp_path):
    """Its own PostgreSQL (no stack): a cluster made before credentials has no `scram` marker. The next start
    moves it aside and initialises a scram one, whose read models the projector rebuilds from the log."""
    secrets = Secrets(tmp_path / "secrets").ensure()
    PostgresServer(tmp_path / "postgres", secrets).start().stop()
    (tmp_path / "postgres" / "scram").unlink()  # what a data dir from before credentials looks like
    server = PostgresServer(tmp_path / "postgres", secrets).start()
    try:
        assert len(list((tmp_path / "postgres").glob("pgdata.trust-*/PG_VERSION"))) == 1, "the old cluster is kept"

        async def check() -> str:
            conn = await asyncpg.connect(server.owner_dsn)
            try:
                return await conn.fetchval("SELECT current_setting('password_encryption')")
            finally:
                await conn.close()

        assert await check() == "scram-sha-256"
        hba = (tmp_path / "postgres" / "pgdata" / "pg_hba.conf").read_text()
        rules = [line for line in hba.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert rules and all(line.split()[-1] == "scram-sha-256" for line in rules), rules
    finally:
        server.stop()
