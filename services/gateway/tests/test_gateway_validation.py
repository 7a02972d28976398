"""The strict edges as pure functions: text, numbers, ids, filenames, models, quotas, job errors."""

import gc

import pytest

from voxledger.contracts.failures import public_message
from voxledger.gateway.domain import live_protocol as proto
from voxledger.gateway.domain.errors import DomainError
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.domain.pagination import decode_cursor, decode_offset, encode_cursor
from voxledger.gateway.domain.validation import (
    check_language,
    check_strings,
    check_text,
    display_filename,
    is_canonical_id,
    parse_seq,
)
from voxledger.gateway.http.errors import ApiError, from_domain
from voxledger.gateway.http.quotas import ConcurrencyQuota
from voxledger.runtime.settings import CommonSettings, SettingsError, load_settings, served_models

ID = "01900000-0000-7000-8000-000000000000"


def refused(call, *args, **kwargs) -> ApiError:
    """The problem the refusal answers with: its status comes from the one table in http/errors.py."""
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return from_domain(caught.value)


@pytest.mark.parametrize("bad", ["x\x00y", "a\x1bb", "tab\there", "line\nbreak", "del\x7f"])
def test_single_line_text_refuses_every_control_character(bad):
    err = refused(check_text, bad, "model")
    assert (err.status, err.code, err.field) == (422, "invalid_characters", "model")


def test_multiline_text_allows_tab_and_newline_only():
    assert check_text("a\tb\nc", "note", multiline=True) == "a\tb\nc"
    assert refused(check_text, "a\rb", "note", multiline=True).code == "invalid_characters"
    assert refused(check_text, "x" * 11, "note", 10).code == "value_too_long"
    assert check_text("ünïcödé ✓", "note") == "ünïcödé ✓"


def test_every_string_of_a_body_is_checked_with_its_path():
    check_strings({"kinds": ["summary"], "job_id": None}, "")
    assert refused(check_strings, {"kinds": ["ok", "b\x00d"]}, "").field == "kinds[1]"
    assert refused(check_strings, {"a\x00": 1}, "").field == "a\x00"


@pytest.mark.parametrize("raw", ["²", "١٢", "-1", "+1", " 1", "1.0", "", "9" * 19, "0x10"])
def test_sequences_are_ascii_digits_only_and_bounded(raw):
    err = refused(parse_seq, raw, "min_seq", "invalid_min_seq")
    assert (err.status, err.code, err.field) == (400, "invalid_min_seq", "min_seq")


def test_a_valid_sequence_parses():
    assert parse_seq("0", "x", "c") == 0 and parse_seq("9" * 18, "x", "c") == int("9" * 18)


@pytest.mark.parametrize("value", [f"urn:uuid:{ID}", f"{{{ID}}}", ID.replace("-", ""), ID + " ", ID[:-1] + "g"])
def test_only_canonical_uuids_are_ids(value):
    assert not is_canonical_id(value)


def test_canonical_ids_in_either_case_are_ids():
    assert is_canonical_id(ID) and is_canonical_id(ID.upper())


def test_cursors_are_strict():
    assert decode_cursor(encode_cursor(ID)) == ID
    for bad in ("²", "x" * 100, encode_cursor(f"urn:uuid:{ID}")):
        assert refused(decode_cursor, bad).code == "invalid_cursor"
    assert refused(decode_offset, "bzrCsg").code == "invalid_cursor"  # "o:²"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\call.wav", "call.wav"),
        ("pa\x00ss\u202ewd.ogg", "passwd.ogg"),
        ("\u2066evil\u2069.mp3", "evil.mp3"),
        (".hidden.ogg", "hidden.ogg"),
        ("", "upload"),
        ("/", "upload"),
        (None, "upload"),
    ],
)
def test_filenames_become_safe_display_names(raw, shown):
    assert display_filename(raw) == shown


def test_long_filenames_are_bounded_and_keep_their_extension():
    name = display_filename("a" * 1000 + ".ogg")
    assert len(name) <= 255 and name.endswith(".ogg")


def test_language_codes_are_ascii_letters():
    assert check_language("EN") == "en" and check_language(None) is None
    for bad in ("english!", "éé", "e1", "e"):
        assert refused(check_language, bad).code == "invalid_language"


def test_the_served_models_setting_parses_names_and_local_paths():
    assert served_models("tiny.en,base=/models/base") == {"tiny.en": None, "base": "/models/base"}
    assert load_settings(CommonSettings, {}).served_models == "tiny.en"
    for bad in ("", "x\x00", "a,,b", "../x", "a=b=c"):
        with pytest.raises(SettingsError):
            load_settings(CommonSettings, {"VOXLEDGER_SERVED_MODELS": bad})


def test_only_served_models_are_accepted_and_listed_without_paths():
    catalog = ModelCatalog(served_models("tiny.en,large-v3=/srv/large"))
    assert catalog.check(None) is None and catalog.check("  ") is None and catalog.check("large-v3") == "large-v3"
    err = refused(catalog.check, "/srv/large")
    assert (err.status, err.code, err.field) == (422, "unknown_model", "model")
    assert refused(catalog.check, "x\x00y").code == "invalid_characters"
    listed = {m.name: m for m in catalog.listing()}
    assert listed["tiny.en"].default and listed["tiny.en"].english_only and listed["tiny.en"].languages == ["en"]
    assert listed["large-v3"].local and listed["large-v3"].languages is None
    assert "/srv" not in repr(catalog.listing())


def test_a_concurrency_quota_refuses_with_429_and_frees_its_slots():
    quota = ConcurrencyQuota("sse_streams", 1, 7)
    slot = quota.acquire("a")
    quota.acquire("b").release()  # tenants are counted apart
    err = refused(quota.acquire, "a")
    assert (err.status, err.code, err.field, err.headers["Retry-After"]) == (429, "quota_exceeded", "sse_streams", "7")
    slot.release()
    slot.release()  # idempotent
    assert quota.held("a") == 0


def test_a_slot_bound_to_an_owner_is_freed_when_the_owner_is_collected():
    quota = ConcurrencyQuota("sse_streams", 1, 1)

    class Stream:
        pass

    owner = Stream()
    quota.acquire("a").bind(owner)
    del owner
    gc.collect()
    assert quota.held("a") == 0


def test_job_errors_show_plain_messages_only():
    assert public_message("audio_truncated").startswith("the audio file is cut off")
    assert public_message("something_new") == public_message("internal_error"), "an unknown code tells nothing more"


def test_live_messages_refuse_control_characters_and_loose_ids():
    with pytest.raises(proto.ProtocolError) as caught:
        proto.parse('{"type": "start", "model": "x\\u0000y"}')
    assert caught.value.code == "invalid_characters"
    with pytest.raises(proto.ProtocolError) as caught:
        proto.parse(f'{{"type": "resume", "session_id": "urn:uuid:{ID}"}}')
    assert caught.value.code == "session_not_found"
    with pytest.raises(proto.ProtocolError) as caught:
        proto.parse('{"type": "stop", "pad": "' + "x" * 5000 + '"}')
    assert caught.value.code == "invalid_message"


async def test_the_notifier_wakes_waiters_when_the_slowest_live_projection_advances():
    import asyncio
    import time

    from voxledger.gateway.http.consistency import ProjectionNotifier

    async def scenario() -> None:
        notifier = ProjectionNotifier("postgresql://unused", poll_s=3600)  # never started: fed by hand
        notifier._apply({"read_models": 5, "read_models__shadow": 1}, replace=True)
        assert notifier.projected_seq == 5, "a replay's shadow checkpoint does not count"
        waiter = asyncio.create_task(notifier.wait_for_seq(7, time.monotonic() + 5))
        await asyncio.sleep(0)
        notifier._on_notify(None, 0, "voxledger_projection", "read_models:6")
        await asyncio.sleep(0)
        assert not waiter.done()
        notifier._on_notify(None, 0, "voxledger_projection", "read_models:²")  # ignored, not a crash
        notifier._on_notify(None, 0, "voxledger_projection", "read_models:7")
        assert await asyncio.wait_for(waiter, 1)
        notifier._on_notify(None, 0, "voxledger_projection", "read_models:3")
        assert notifier.projected_seq == 7, "a late notification never moves a checkpoint back"
        assert not await notifier.wait_for_seq(8, time.monotonic() + 0.05), "at the deadline it says so"

    await scenario()


def test_every_kind_of_domain_error_maps_to_one_status():
    from voxledger.gateway.domain import errors

    kinds = [
        errors.Malformed,
        errors.Unacceptable,
        errors.NotFound,
        errors.Conflict,
        errors.TooLarge,
        errors.UnsupportedMedia,
        errors.RangeNotSatisfiable,
    ]
    statuses = [from_domain(kind("some_code", "a message", "f")).status for kind in kinds]
    assert statuses == [400, 422, 404, 409, 413, 415, 416]
    assert set(errors.DomainError.__subclasses__()) == {*kinds, errors.QuotaExceeded}  # a new kind needs a status
    assert from_domain(errors.not_found("live_session")).detail == "no such live session"
    assert from_domain(errors.DomainError("odd", "no kind")).status == 400
