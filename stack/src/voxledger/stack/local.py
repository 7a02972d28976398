"""The embedded stack of this machine: where its data lives and whether it is running."""

import os
from pathlib import Path

import msgspec

from voxledger.stack.secrets import write_private


class StackInfo(msgspec.Struct, kw_only=True):
    """What a running `voxledger up` writes to <data dir>/run/stack.json for other commands to find it."""

    nats_url: str
    database_url: str
    http_url: str
    supervisor_pid: int


def data_dir() -> Path:
    return Path(os.environ.get("VOXLEDGER_DATA_DIR", ".voxledger"))


def running_stack(directory: Path) -> StackInfo | None:
    info_file = directory / "run" / "stack.json"
    if not info_file.exists():
        return None
    info = msgspec.json.decode(info_file.read_bytes(), type=StackInfo)
    return info if alive(info.supervisor_pid) else None


def write_info(directory: Path, info: StackInfo) -> None:
    # Owner-only: the database URL carries the schema owner's password.
    write_private(directory / "run" / "stack.json", msgspec.json.encode(info).decode(), replace=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
