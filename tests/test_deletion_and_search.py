"""Deletion end to end, and transcript search: ranked, highlighted, phrases and prefixes, tenant-scoped."""

from tests.helpers import (
    audio_removed,
    audio_stored,
    eventually_async,
    new_client,
    read_events,
    reference,
    upload,
    wait_job,
    wait_logged,
)
from tests.wer import BATCH_WER, assert_wer, words

# Words of the fixtures that the english text search indexes (no stop words). The searches below use the
# ones the model heard: which of them it hears depends on the processor (see tests/wer.py).
CONTENT_WORDS = ["budget", "quarter", "morning", "everyone", "review", "notes", "team", "friday", "afternoon"]
PHRASES = [("good", "morning"), ("morning", "everyone"), ("next", "quarter"), ("friday", "afternoon")]


def heard(client, recording_id: str) -> list[list[str]]:
    """The words of each transcript segment, as the model heard them."""
    segments = client.get(f"/v1/recordings/{recording_id}/transcript").json()["segments"]
    return [words(s["text"]) for s in segments]


def said_in_order(segments: list[list[str]], first: str, second: str) -> bool:
    return any(s[i : i + 2] == [first, second] for s in segments for i in range(len(s)))


async def test_deleting_a_recording_cancels_its_running_job_and_removes_it_everywhere(stack, client, nc):
    running = upload(client, "bench_300s.ogg").json()
    rec, job = running["recording_id"], running["job_id"]
    read_events(client, rec, until="SegmentsTranscribed", job_id=job)
    assert await audio_stored(nc, rec)

    deleted = client.delete(f"/v1/recordings/{rec}")
    assert deleted.status_code == 202 and deleted.json() == {"recording_id": rec, "status": "deleting"}
    token = deleted.headers["X-Consistency-Token"]
    gone = client.get(f"/v1/recordings/{rec}", params={"min_seq": token})
    assert gone.status_code == 404 and gone.json()["code"] == "recording_not_found"
    assert "X-Read-Model-Stale" not in gone.headers
    assert client.get(f"/v1/jobs/{job}").status_code == 404
    assert rec not in [r["recording_id"] for r in client.get("/v1/recordings").json()["items"]]
    assert job not in [j["job_id"] for j in client.get("/v1/jobs").json()["items"]]

    history = await wait_logged(nc, stack, rec, "RecordingDeleted", timeout_s=30)
    types = [m.envelope.type for m in history]
    assert "TranscriptionCancelled" in types and "TranscriptionCompleted" not in types
    deleted_at = types.index("RecordingDeleted")
    # The delete's events are one append; only its last ends the commit, where the token is satisfied.
    delete_cause = history[deleted_at].envelope.causation_id
    commit = [m.envelope.commit_remaining for m in history if m.envelope.causation_id == delete_cause]
    assert commit == list(range(len(commit) - 1, -1, -1)) and len(commit) >= 2
    assert not {"SegmentsTranscribed", "TranscriptionProgressed"} & set(types[deleted_at:]), "the worker stopped"
    await eventually_async(lambda: audio_removed(nc, rec), "the audio blob removed", 10)

    # The worker is free again: the next job runs to the end.
    after = upload(client, "short_meeting.ogg").json()
    assert wait_job(client, after["job_id"])["status"] == "completed"
    assert client.delete(f"/v1/recordings/{rec}").status_code == 404


def test_search_finds_ranked_highlighted_segments_with_phrases_and_prefixes(stack, client):
    accepted = upload(client, "short_meeting.ogg", language="en").json()
    rec = accepted["recording_id"]
    assert wait_job(client, accepted["job_id"])["status"] == "completed"
    segments_heard = heard(client, rec)
    assert_wer(reference("short_meeting.ogg"), " ".join(" ".join(s) for s in segments_heard), BATCH_WER)
    word = next(w for w in CONTENT_WORDS if sum(w in s for s in segments_heard) == 1)
    first, second = next(phrase for phrase in PHRASES if said_in_order(segments_heard, *phrase))

    # Keyword mode: the syntax below is full text's (hybrid, the default, adds passages found by meaning).
    page = client.get("/v1/search", params={"q": word, "mode": "keyword"})
    assert page.status_code == 200, page.text
    (hit,) = page.json()["items"]
    assert hit["recording_id"] == rec and hit["job_id"] == accepted["job_id"]
    assert f"<mark>{word}</mark>" in hit["snippet"].lower()
    segments = client.get(f"/v1/recordings/{rec}/transcript").json()["segments"]
    assert hit["start"] == segments[hit["segment_index"]]["start"], "the hit says where to jump to"

    assert client.get("/v1/search", params={"q": f'"{first} {second}"', "mode": "keyword"}).json()["items"], (
        "a phrase in order matches"
    )
    assert client.get("/v1/search", params={"q": f'"{second} {first}"', "mode": "keyword"}).json()["items"] == [], (
        "out of order does not"
    )
    assert client.get("/v1/search", params={"q": f"{word[:4]}*", "mode": "keyword"}).json()["items"], "a prefix matches"
    assert client.get("/v1/search", params={"q": "giraffe", "mode": "keyword"}).json()["items"] == []
    assert client.get("/v1/search", params={"q": "  "}).json()["code"] == "invalid_query"

    with new_client(stack, "search-other-tenant") as other:
        assert other.get("/v1/search", params={"q": word}).json()["items"] == []

    deleted = client.delete(f"/v1/recordings/{rec}")
    token = deleted.headers["X-Consistency-Token"]
    found = client.get("/v1/search", params={"q": word, "min_seq": token})
    assert found.json()["items"] == [] and "X-Read-Model-Stale" not in found.headers


def test_search_ranks_the_better_match_first_and_pages_without_repeats(client):
    meeting = upload(client, "bench_60s.ogg", language="en").json()
    short = upload(client, "short_meeting.ogg", language="en").json()
    for job in (meeting["job_id"], short["job_id"]):
        assert wait_job(client, job, timeout_s=300)["status"] == "completed"
    segments_heard = heard(client, meeting["recording_id"]) + heard(client, short["recording_id"])
    # The word heard in the most segments ("team" is said in four): enough hits to page through.
    word = max(CONTENT_WORDS, key=lambda w: sum(w in s for s in segments_heard))
    everything = client.get("/v1/search", params={"q": word, "limit": 100, "mode": "keyword"}).json()["items"]
    assert len(everything) >= 3, (word, segments_heard)
    ranks = [h["rank"] for h in everything]
    assert ranks == sorted(ranks, reverse=True)
    paged, cursor = [], None
    while True:
        params = {"q": word, "limit": 2, "mode": "keyword", **({"cursor": cursor} if cursor else {})}
        body = client.get("/v1/search", params=params).json()
        paged += body["items"]
        if not (cursor := body["next_cursor"]):
            break
    key = lambda h: (h["job_id"], h["segment_index"])  # noqa: E731
    assert [key(h) for h in paged] == [key(h) for h in everything]
