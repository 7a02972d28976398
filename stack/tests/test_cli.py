"""The `voxledger` command line: its arguments, and what it writes for a deployment (no stack started)."""

import json
import stat

import pytest

from voxledger.stack.cli import main, parse_scale


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_scale_takes_service_equals_count():
    assert parse_scale(["transcriber=2", "live=0"]) == {"transcriber": 2, "live": 0}
    assert parse_scale([]) == {}


@pytest.mark.parametrize("value", ["transcriber", "transcriber=two", "nosuch=1", "transcriber=-1"])
def test_a_bad_scale_names_the_services_and_the_value(value):
    with pytest.raises(SystemExit, match=f"SERVICE=N with SERVICE one of .*transcriber.*; got '{value}'"):
        parse_scale([value])


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nosuch"],
        ["keys"],
        ["keys", "create", "--scope", "owner"],
        ["keys", "rotate"],
        ["up", "--nats-cluster", "x"],
    ],
)
def test_a_malformed_command_line_is_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: voxledger" in capsys.readouterr().err


def test_ps_without_a_running_stack_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VOXLEDGER_DATA_DIR", str(tmp_path))
    assert main(["ps"]) == 1
    assert capsys.readouterr().out == "no voxledger stack is running here\n"


def test_credentials_are_owner_only_and_a_second_run_keeps_every_identity(tmp_path, capsys):
    where = tmp_path / "creds"
    assert main(["credentials", str(where)]) == 0
    first = capsys.readouterr().out
    assert mode(where) == 0o700
    assert {mode(f) for f in where.iterdir()} == {0o600}, "every secret file owner-only"
    config = json.loads((where / "nats-auth.conf").read_text())
    seeds = {f.read_text().strip() for f in where.glob("nats-*.nk")}
    assert config["authorization"]["users"] and not any(seed in json.dumps(config) for seed in seeds), (
        "public keys only"
    )
    owner_pass = (where / "pgpass-voxledger").read_text()
    assert owner_pass == f"*:*:*:voxledger:{(where / 'pg-voxledger.password').read_text().strip()}\n"

    master = (where / "master-key").read_bytes()
    assert main(["credentials", str(where)]) == 0
    assert capsys.readouterr().out == first, "the same public keys: a restart keeps every identity"
    assert (where / "master-key").read_bytes() == master, "the master key wraps every data key: kept"
