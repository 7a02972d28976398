"""Recordings that read like a library, on the shared stack: a name, tags and a folder set by a person, sealed in
the log like the filename, filtered on in the list, and the name on every export's file."""

import io
import zipfile

from tests.disk import where_stored
from tests.helpers import new_client, upload, wait_job

NAME = "Quarterly zebra review"  # words found nowhere else on the stack's disk


def _path(recording_id: str) -> str:
    return f"/v1/recordings/{recording_id}"


def test_a_recording_is_named_tagged_and_filed_and_its_exports_carry_the_name(stack, client):
    recording_id = upload(client, "short_meeting.ogg").json()["recording_id"]
    plain = client.get(_path(recording_id)).json()
    assert plain["name"] == "short_meeting.ogg" and plain["tags"] == [] and plain["folder"] == ""

    changed = client.patch(_path(recording_id), json={"name": f"  {NAME} ", "tags": ["sales", "q3", "sales"]})
    assert changed.status_code == 202, changed.text
    assert changed.json() == {"recording_id": recording_id, "name": NAME, "tags": ["sales", "q3"], "folder": ""}
    filed = client.patch(_path(recording_id), json={"folder": "Customers"})
    token = {"min_seq": filed.headers["X-Consistency-Token"]}
    shown = client.get(_path(recording_id), params=token).json()
    assert (shown["name"], shown["tags"], shown["folder"]) == (NAME, ["sales", "q3"], "Customers")

    def listed(**filters: str) -> list[str]:
        return [r["recording_id"] for r in client.get("/v1/recordings", params={**token, **filters}).json()["items"]]

    assert listed(tag="sales") == [recording_id] and listed(tag="q3", folder="Customers") == [recording_id]
    assert listed(tag="other") == [] and listed(folder="Elsewhere") == []

    wait_job(client, shown["latest_job_id"])
    for fmt in ("srt", "txt"):
        export = client.get(f"{_path(recording_id)}/transcript", params={"format": fmt})
        assert f'filename="{NAME}.{fmt}"' in export.headers["content-disposition"], export.headers

    # Several at once, as one zip: each transcript under its name; one not transcribed is named, not skipped silently.
    untranscribed = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    both = {"recording_id": [recording_id, untranscribed], "format": "srt"}
    exported = client.get("/v1/recordings/export", params=both)
    assert exported.status_code == 200 and 'filename="recordings.zip"' in exported.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert archive.namelist() == [f"{NAME}.srt", "not-transcribed.txt"]
        assert " --> " in archive.read(f"{NAME}.srt").decode()
        assert archive.read("not-transcribed.txt").decode() == "short_meeting.ogg\n"
    alone = client.get("/v1/recordings/export", params={"recording_id": untranscribed})
    assert alone.status_code == 409 and alone.json()["code"] == "transcript_not_ready"

    # Sealed like the filename: the log's files on disk never hold the name in clear.
    assert where_stored(stack.data_dir / "nats", {"name": NAME.encode()}) == {"name": []}


def test_bad_descriptions_are_refused_with_a_code_and_other_tenants_cannot_describe(stack, client):
    recording_id = upload(client, "short_meeting.ogg", transcribe="false").json()["recording_id"]
    for body, code in [
        ({}, "nothing_to_change"),
        ({"tags": [f"t{i}" for i in range(21)]}, "too_many_tags"),
        ({"tags": [" "]}, "invalid_tag"),
        ({"name": "a\u0007b"}, "invalid_characters"),
        ({"name": "x" * 201}, "value_too_long"),
    ]:
        refused = client.patch(_path(recording_id), json=body)
        assert refused.status_code == 422 and refused.json()["code"] == code, (body, refused.text)
    with new_client(stack, "library-other") as other:
        assert other.patch(_path(recording_id), json={"name": "mine"}).status_code == 404
        assert other.get("/v1/recordings/export", params={"recording_id": recording_id}).status_code == 404
