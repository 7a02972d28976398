"""Typed settings, read from the environment once at start and validated with clear errors.

A field `foo_bar` is read from `VOXLEDGER_FOO_BAR`, except the conventional
unprefixed names below. Settings are never re-read per access.
"""

import os
import sys
from collections.abc import Mapping
from typing import Annotated, Literal, TypeVar

import msgspec

UNPREFIXED = {"nats_url": "NATS_URL", "database_url": "DATABASE_URL"}

S = TypeVar("S", bound="CommonSettings")
MODEL_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_SERVED_ENTRY = rf"{MODEL_NAME_PATTERN}(=[^,=\x00-\x1f]+)?"
SERVED_MODELS_PATTERN = rf"^{_SERVED_ENTRY}(,{_SERVED_ENTRY})*$"


class SettingsError(Exception):
    pass


class CommonSettings(msgspec.Struct, kw_only=True, frozen=True):
    nats_url: str = "nats://127.0.0.1:4222"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/voxledger"
    # This service's NATS identity: a file holding its nkey seed (owner-only). Empty: no authentication.
    nats_nkey_seed_file: str = ""
    # TLS to NATS: the CA that signed the server's certificate (a `tls://` URL, or a server that requires TLS).
    nats_tls_ca_file: str = ""
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    stream_replicas: int = 1
    data_dir: str = ".voxledger"
    # The models this deployment serves, comma-separated: `name` or `name=/local/path` (a path is a server
    # setting, never a client input). The first is the default. Shared by the gateway and the transcribers.
    served_models: Annotated[str, msgspec.Meta(pattern=SERVED_MODELS_PATTERN)] = "tiny.en"
    # Webhooks to loopback, private or link-local addresses: refused (gateway and delivery) unless set.
    webhook_allow_private: bool = False
    # Crypto-shredding (runtime/crypto.py): the master key file; empty: <data dir>/secrets/master-key.
    master_key_file: str = ""
    # Off only for benchmarks: content is then written in clear and cannot be erased by a delete.
    encryption: bool = True


def env_name(field: str) -> str:
    return UNPREFIXED.get(field, f"VOXLEDGER_{field.upper()}")


def load_settings(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
    environ = os.environ if environ is None else environ
    names = {f.name: env_name(f.name) for f in msgspec.structs.fields(cls)}
    raw = {field: environ[var] for field, var in names.items() if var in environ}
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as err:
        message = str(err)
        for field, var in names.items():
            message = message.replace(f"`$.{field}`", var)
        raise SettingsError(f"invalid setting: {message}") from None


def load_or_exit(cls: type[S]) -> S:
    """For service entry points: a bad setting ends the process with one clear line."""
    try:
        return load_settings(cls)
    except SettingsError as err:
        sys.stderr.write(f"{err}\n")
        raise SystemExit(2) from None


def served_models(raw: str) -> dict[str, str | None]:
    """`VOXLEDGER_SERVED_MODELS` as {name: local path or None}, in order (the first is the default)."""
    served: dict[str, str | None] = {}
    for entry in raw.split(","):
        name, _, path = entry.strip().partition("=")
        served[name] = path or None
    return served
