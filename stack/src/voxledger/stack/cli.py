"""The `voxledger` command: run the embedded stack, the demo, admin tasks, and the API client commands."""

import argparse
import asyncio
import os
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from voxledger.runtime.broker import NatsAccess, nats_access
from voxledger.runtime.crypto import ensure_master_key, master_key_path
from voxledger.runtime.keys import SCOPES, key_status
from voxledger.runtime.logging import configure_logging
from voxledger.runtime.settings import CommonSettings, load_or_exit
from voxledger.stack.client.commands import register as register_client_commands
from voxledger.stack.local import alive, data_dir, running_stack
from voxledger.stack.provision import (
    issue_new_key,
    list_keys,
    provision,
    revoke_key,
    rotate_key,
    rotate_master_key,
)
from voxledger.stack.secrets import PG_OWNER, PG_READER, Secrets, write_private
from voxledger.stack.supervisor import SERVICES, Stack


def parse_scale(values: list[str]) -> dict[str, int]:
    scale: dict[str, int] = {}
    for value in values:
        name, _, count = value.partition("=")
        if name not in SERVICES or not count.isdigit():
            raise SystemExit(f"--scale takes SERVICE=N with SERVICE one of {', '.join(SERVICES)}; got {value!r}")
        scale[name] = int(count)
    return scale


def cmd_up(args: argparse.Namespace) -> int:
    directory = data_dir()
    if (info := running_stack(directory)) is not None:
        sys.stderr.write(f"a stack is already running on {info.http_url} (pid {info.supervisor_pid})\n")
        return 1
    if args.nats_cluster < 1:
        sys.stderr.write(f"--nats-cluster takes a number of nodes, 1 or more; got {args.nats_cluster}\n")
        return 2
    port = int(os.environ.get("VOXLEDGER_HTTP_PORT", "8000"))
    configure_logging("stack", os.environ.get("VOXLEDGER_LOG_FORMAT", "auto"))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stack = Stack(
        directory,
        http_port=port,
        scale=parse_scale(args.scale),
        nats_url=os.environ.get("NATS_URL"),
        database_url=os.environ.get("DATABASE_URL"),
        nats_cluster=args.nats_cluster,
    )
    sys.stderr.write("starting voxledger ...\n")
    stack.start()
    sys.stderr.write(
        f"\nvoxledger is up: {stack.http_url}  (API docs: {stack.http_url}/docs)\n"
        f"web app, signed in on this machine: {stack.http_url}/#key={stack.api_key}\n"
        f"dev API key: {stack.api_key}  (also in {directory / 'dev-api-key'})\n"
        f"try: curl -H 'Authorization: Bearer {stack.api_key}' {stack.http_url}/v1/recordings\n"
        "Ctrl-C stops everything.\n\n"
    )
    try:
        while not stop.wait(0.5):
            stack.supervise_once()
    finally:
        sys.stderr.write("stopping voxledger ...\n")
        stack.stop()
    return 0


def cmd_ps(args: argparse.Namespace) -> int:
    """The running stack's service processes, from their pid files."""
    run_dir = data_dir() / "run"
    info = running_stack(data_dir())
    if info is None:
        sys.stdout.write("no voxledger stack is running here\n")
        return 1
    sys.stdout.write(f"stack {info.http_url} (supervisor pid {info.supervisor_pid})\n")
    sys.stdout.write(f"{'SERVICE':<16}{'PID':>8}  STATE\n")
    for pid_file in sorted(run_dir.glob("*.pid")):
        pid = int(pid_file.read_text().split()[0])
        state = "running" if alive(pid) else "dead"
        sys.stdout.write(f"{pid_file.stem:<16}{pid:>8}  {state}\n")
    return 0


def cmd_provision(args: argparse.Namespace) -> int:
    """Streams, consumers, buckets and the read-model schema on NATS_URL and DATABASE_URL; idempotent."""
    settings = load_or_exit(CommonSettings)
    nats = _identity(nats_access(settings), "provision")
    version = asyncio.run(provision(nats, settings.database_url, settings.stream_replicas))
    sys.stdout.write(f"provisioned: {settings.stream_replicas} stream replica(s), schema version {version}\n")
    return 0


def _identity(access: NatsAccess, role: str) -> NatsAccess:
    """VOXLEDGER_NATS_NKEY_SEED_FILE if set, else the embedded stack's generated identity for `role` if the
    data directory has one (an operator on the stack's host), else none (a server without authentication)."""
    seed = Secrets(data_dir() / "secrets").nkey_seed_file(role)
    if access.nkey_seed_file or not seed.exists():
        return access
    return msgspec.structs.replace(access, nkey_seed_file=str(seed))


def _nats(role: str) -> NatsAccess | None:
    """NATS_URL (else the running stack's) with the identity of `role`: `keys` for key commands, `provision`
    for the rest; see runtime/nats_permissions.py."""
    access = nats_access(load_or_exit(CommonSettings))
    if "NATS_URL" not in os.environ:
        if (info := running_stack(data_dir())) is None:
            sys.stderr.write("no running stack found: start `voxledger up` or set NATS_URL\n")
            return None
        access = msgspec.structs.replace(access, url=info.nats_url)
    return _identity(access, role)


def cmd_keys_create(args: argparse.Namespace) -> int:
    """Prints the new key alone on stdout (for scripts); its id and scope go to stderr."""
    if not (nats := _nats("keys")):
        return 1
    expires_at = datetime.now(UTC) + timedelta(days=args.expires_in) if args.expires_in else None
    try:
        key = asyncio.run(issue_new_key(nats, args.tenant, args.label, args.scope, expires_at))
    except ValueError as err:
        sys.stderr.write(f"{err}\n")
        return 2
    sys.stderr.write(f"key {key.key_id} ({args.scope}) for tenant {args.tenant}\n")
    sys.stdout.write(key.secret + "\n")
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    if (servers := _servers()) is None:
        return 1
    rows = asyncio.run(list_keys(servers[1], args.tenant))
    now = datetime.now(UTC)
    sys.stdout.write(f"{'ID':<38}{'TENANT':<20}{'SCOPE':<8}{'STATUS':<9}{'PREFIX':<12}{'LAST USED':<27}LABEL\n")
    for row in rows:
        used = row["last_used_at"].isoformat(timespec="minutes") if row["last_used_at"] else "-"
        status = key_status(row["expires_at"], row["revoked_at"], now)
        sys.stdout.write(
            f"{row['key_id']:<38}{row['tenant_id']:<20}{row['scope']:<8}{status:<9}{row['prefix']:<12}{used:<27}"
            f"{row['name']}\n"
        )
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    if not (nats := _nats("keys")):
        return 1
    if not asyncio.run(revoke_key(nats, args.id)):
        sys.stderr.write(f"no key {args.id}\n")
        return 2
    sys.stdout.write(f"revoked {args.id}\n")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """Prints the new key alone on stdout; the old one keeps working for --overlap seconds."""
    if not (nats := _nats("keys")):
        return 1
    key = asyncio.run(rotate_key(nats, args.id, args.overlap))
    if key is None:
        sys.stderr.write(f"no key {args.id}\n")
        return 2
    sys.stderr.write(f"key {key.key_id} replaces {args.id} (valid {args.overlap} s more)\n")
    sys.stdout.write(key.secret + "\n")
    return 0


def cmd_keys_rotate_master(args: argparse.Namespace) -> int:
    """A new master key and every data key re-wrapped by it; --retire then drops the old master keys."""
    if not (nats := _nats("provision")):
        return 1
    path = master_key_path(load_or_exit(CommonSettings))
    done = asyncio.run(rotate_master_key(nats, path, args.retire))
    sys.stdout.write(
        f"master key {done.current}: {done.rewrapped} data keys re-wrapped, {done.already_current} already on it"
        + ("; older master keys removed\n" if done.retired else "; older master keys kept until --retire\n")
    )
    return 0


def _servers() -> tuple[NatsAccess, str] | None:
    """NATS (as `provision`) and DATABASE_URL (the schema owner's) from the environment, else the running stack's."""
    database_url = os.environ.get("DATABASE_URL") or getattr(running_stack(data_dir()), "database_url", None)
    if not database_url:
        sys.stderr.write("no running stack found: start `voxledger up` or set NATS_URL and DATABASE_URL\n")
        return None
    nats = _nats("provision")  # says what is missing itself
    return (nats, database_url) if nats else None


def cmd_replay(args: argparse.Namespace) -> int:
    """Rebuilds a projection from sequence 1 into shadow tables and swaps them in; the API keeps serving."""
    from voxledger.projector.admin import replay_projection

    if (servers := _servers()) is None:
        return 1
    configure_logging("replay", os.environ.get("VOXLEDGER_LOG_FORMAT", "auto"), "warning")
    report = asyncio.run(replay_projection(*servers, args.projection))
    sys.stdout.write(
        f"replayed {report.projection}: {report.events} events to seq {report.last_seq} in {report.seconds:.1f} s"
        f" ({report.skipped} skipped as unknown, {report.quarantined} quarantined), swapped in\n"
    )
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from voxledger.projector.admin import projection_digest

    if (servers := _servers()) is None:
        return 1
    digests = asyncio.run(projection_digest(servers[1]))
    sys.stdout.write(f"{'READ MODEL':<20}{'ROWS':>10}  SHA-256\n")
    for table, (rows, digest) in digests.items():
        sys.stdout.write(f"{table:<20}{rows:>10}  {digest}\n")
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    """Lists the events a projection set aside as poison; with --retry, applies them again first."""
    from voxledger.projector import admin

    if (servers := _servers()) is None:
        return 1
    configure_logging("quarantine", os.environ.get("VOXLEDGER_LOG_FORMAT", "auto"), "warning")
    if args.retry:
        report = asyncio.run(admin.retry_quarantined(*servers, args.projection))
        sys.stdout.write(f"retried: {len(report.applied)} now applied, {len(report.still_failing)} still failing\n")
    events = asyncio.run(admin.quarantined_events(servers[1], args.projection))
    sys.stdout.write(f"{'SEQ':>10}  {'TYPE':<28}{'AGGREGATE':<38}{'TENANT':<20}{'QUARANTINED AT':<28}ERROR\n")
    for e in events:
        at = e.quarantined_at.isoformat(timespec="seconds") if e.quarantined_at else "-"
        sys.stdout.write(
            f"{e.seq:>10}  {e.event_type or '-':<28}{e.aggregate_id or '-':<38}{e.tenant_id or '-':<20}{at:<28}{' '.join((e.error or '').split())}\n"
        )
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    """Generates (or keeps) the identities in a directory for a deployment: one nkey seed per role, the
    PostgreSQL passwords, nats-server's authorization config with the public keys and permissions, and the
    master key of crypto-shredding."""
    from voxledger.runtime.nats_permissions import server_authorization

    secrets = Secrets(Path(args.directory)).ensure()
    config = msgspec.json.format(msgspec.json.encode({"authorization": server_authorization(secrets.public_keys())}))
    write_private(secrets.directory / "nats-auth.conf", config.decode() + "\n", replace=True)
    for role in (PG_OWNER, PG_READER):  # libpq/asyncpg password files (PGPASSFILE), for URLs without a password
        write_private(secrets.directory / f"pgpass-{role}", f"*:*:*:{role}:{secrets.pg_password(role)}\n", replace=True)
    for role, public_key in secrets.public_keys().items():
        sys.stdout.write(f"{role:<12} {public_key}  {secrets.nkey_seed_file(role)}\n")
    master = ensure_master_key(secrets.directory / "master-key")  # kept if it exists: it wraps every data key
    sys.stdout.write(f"master key: {master} (mount it into gateway, transcriber, live, postproc, projector)\n")
    sys.stdout.write(f"nats-server config: {secrets.directory / 'nats-auth.conf'} (public keys only)\n")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from voxledger.stack.demo import run_demo

    return run_demo(data_dir(), Path(args.file) if args.file else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="voxledger", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the embedded stack until Ctrl-C")
    up.add_argument("--scale", action="append", default=[], metavar="SERVICE=N", help="e.g. transcriber=2")
    up.add_argument(
        "--nats-cluster",
        type=int,
        default=1,
        metavar="N",
        help="run N clustered nats-servers on loopback, streams and buckets at min(N, 3) replicas (default 1)",
    )
    up.set_defaults(func=cmd_up)
    prov = sub.add_parser("provision", help="create streams, buckets and schema on NATS_URL / DATABASE_URL")
    prov.set_defaults(func=cmd_provision)
    creds = sub.add_parser("credentials", help="generate NATS identities and database passwords for a deployment")
    creds.add_argument("directory", help="where to write them (0700; files 0600); existing ones are kept")
    creds.set_defaults(func=cmd_credentials)
    ps = sub.add_parser("ps", help="list the running stack's service processes")
    ps.set_defaults(func=cmd_ps)
    demo = sub.add_parser("demo", help="transcribe a bundled speech sample end to end")
    demo.add_argument("--file", help="transcribe this audio file instead")
    demo.set_defaults(func=cmd_demo)
    replay = sub.add_parser("replay", help="rebuild read models from the event log, with no downtime")
    replay.add_argument("--projection", default="read_models", help="the projection to rebuild (read_models)")
    replay.set_defaults(func=cmd_replay)
    projections = sub.add_parser("projections", help="read-model projections").add_subparsers(
        dest="projections_command", required=True
    )
    digest = projections.add_parser("digest", help="print a stable hash of each read model's content")
    digest.set_defaults(func=cmd_digest)
    held = projections.add_parser("quarantine", help="list events set aside as poison; --retry applies them again")
    held.add_argument("--retry", action="store_true", help="apply the quarantined events again (after a fix)")
    held.add_argument("--projection", default="read_models", help="the projection (read_models)")
    held.set_defaults(func=cmd_quarantine)
    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="issue a new API key for a tenant and print it")
    create.add_argument("--tenant", default="dev", help="default: dev, the embedded stack's tenant")
    create.add_argument("--label", "--name", default="api key", help="what the key is for")
    create.add_argument("--scope", choices=SCOPES, default="member", help="admin, member (default) or read")
    create.add_argument("--expires-in", type=float, metavar="DAYS", help="refused after this many days")
    create.set_defaults(func=cmd_keys_create)
    listing = keys.add_parser("list", help="list API keys (never their secrets)")
    listing.add_argument("--tenant", help="only this tenant's")
    listing.set_defaults(func=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key now; every gateway refuses it within a second")
    revoke.add_argument("id")
    revoke.set_defaults(func=cmd_keys_revoke)
    rotate = keys.add_parser("rotate", help="issue a key like this one, print it, and revoke this one")
    rotate.add_argument("id")
    rotate.add_argument("--overlap", type=float, default=0, metavar="SECONDS", help="the old key works this long")
    rotate.set_defaults(func=cmd_keys_rotate)
    master = keys.add_parser("rotate-master", help="new master key; re-wrap every recording's data key with it")
    master.add_argument("--retire", action="store_true", help="then remove the old master keys from the file")
    master.set_defaults(func=cmd_keys_rotate_master)
    register_client_commands(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
