"""Settings read from an explicit environment mapping, with clear errors."""

import pytest

from voxledger.gateway.settings import GatewaySettings
from voxledger.runtime.settings import CommonSettings, SettingsError, env_name, load_settings


class ExampleSettings(CommonSettings, kw_only=True, frozen=True):
    worker_count: int = 2
    use_gpu: bool = False


def test_defaults_when_nothing_is_set():
    s = load_settings(GatewaySettings, {})
    assert s == GatewaySettings()
    assert s.http_port == 8000 and s.http_host == "127.0.0.1"
    assert s.nats_url.startswith("nats://") and s.database_url.startswith("postgresql://")
    assert s.log_level == "info"


def test_os_environ_is_not_consulted_when_a_mapping_is_given(monkeypatch):
    monkeypatch.setenv("VOXLEDGER_HTTP_PORT", "1234")
    assert load_settings(GatewaySettings, {}).http_port == 8000


def test_conventional_urls_are_unprefixed():
    env = {"NATS_URL": "nats://bus:4222", "DATABASE_URL": "postgresql://db/vx"}
    s = load_settings(GatewaySettings, env)
    assert s.nats_url == "nats://bus:4222"
    assert s.database_url == "postgresql://db/vx"
    assert env_name("nats_url") == "NATS_URL" and env_name("database_url") == "DATABASE_URL"


def test_prefixed_urls_are_not_read():
    s = load_settings(GatewaySettings, {"VOXLEDGER_NATS_URL": "nats://wrong:1"})
    assert s.nats_url == GatewaySettings().nats_url


def test_strings_are_converted_to_field_types():
    env = {
        "VOXLEDGER_HTTP_PORT": "9090",
        "VOXLEDGER_HTTP_HOST": "0.0.0.0",
        "VOXLEDGER_SSE_KEEPALIVE_S": "2.5",
        "VOXLEDGER_MAX_UPLOAD_MB": "16",
        "VOXLEDGER_LOG_LEVEL": "debug",
        "VOXLEDGER_STREAM_REPLICAS": "3",
    }
    s = load_settings(GatewaySettings, env)
    assert s.http_port == 9090 and isinstance(s.http_port, int)
    assert s.http_host == "0.0.0.0"
    assert s.sse_keepalive_s == 2.5
    assert s.max_upload_mb == 16
    assert s.log_level == "debug"
    assert s.stream_replicas == 3


@pytest.mark.parametrize("raw,expected", [("true", True), ("1", True), ("false", False), ("0", False)])
def test_subclass_fields_int_and_bool(raw, expected):
    s = load_settings(ExampleSettings, {"VOXLEDGER_WORKER_COUNT": "8", "VOXLEDGER_USE_GPU": raw})
    assert s.worker_count == 8
    assert s.use_gpu is expected


def test_unrelated_variables_are_ignored():
    s = load_settings(ExampleSettings, {"VOXLEDGER_SOMETHING_ELSE": "x", "PATH": "/bin", "HTTP_PORT": "1"})
    assert s == ExampleSettings()


@pytest.mark.parametrize(
    "cls,var,value",
    [
        (GatewaySettings, "VOXLEDGER_LOG_LEVEL", "verbose"),
        (GatewaySettings, "VOXLEDGER_HTTP_PORT", "eighty"),
        (GatewaySettings, "VOXLEDGER_LOG_FORMAT", "xml"),
        (ExampleSettings, "VOXLEDGER_USE_GPU", "maybe"),
        (ExampleSettings, "VOXLEDGER_WORKER_COUNT", "2.5x"),
    ],
)
def test_invalid_value_names_the_environment_variable(cls, var, value):
    with pytest.raises(SettingsError) as info:
        load_settings(cls, {var: value})
    message = str(info.value)
    assert var in message
    assert "$." not in message  # the internal path is replaced by the variable's name


def test_settings_are_immutable():
    s = load_settings(GatewaySettings, {})
    with pytest.raises(AttributeError):
        s.http_port = 1  # type: ignore[misc]
