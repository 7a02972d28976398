"""Asking the recordings on the real stack: search by meaning finds a paraphrase that keyword search cannot,
an extractive answer cites the moment, a tenant never retrieves another's passages, and a deleted recording
is gone from every answer as soon as its delete is read."""

from pathlib import Path

from tests.helpers import eventually, wait_job, wait_logged, wait_visible

ASK = Path(__file__).parent / "fixtures" / "ask"
PARAPHRASE = "When does the Portugal branch start operating?"  # said: "The Lisbon office opens on ..."
LISBON = (4.9, 7.82)  # that sentence's span in office.ogg (tests/fixtures/ask/eval.json)


def upload_ask_fixture(client, name: str) -> dict:
    with (ASK / f"{name}.ogg").open("rb") as f:
        accepted = client.post("/v1/recordings", files={"file": (f"{name}.ogg", f)}, data={"language": "en"})
    assert accepted.status_code == 202, accepted.text
    wait_visible(client, f"/v1/recordings/{accepted.json()['recording_id']}")  # the read side lags a little
    return accepted.json()


def search(client, q: str, mode: str, **params) -> list[dict]:
    found = client.get("/v1/search", params={"q": q, "mode": mode, **params})
    assert found.status_code == 200, found.text
    return found.json()["items"]


def ask(client, question: str, **body) -> dict:
    answered = client.post("/v1/ask", json={"question": question, **body})
    assert answered.status_code == 200, answered.text
    return answered.json()


async def test_a_paraphrase_finds_the_moment_by_meaning_cited_for_its_tenant_only_until_deleted(
    stack, client, nc, client_on
):
    office, launch = upload_ask_fixture(client, "office"), upload_ask_fixture(client, "launch")
    for made in (office, launch):
        assert wait_job(client, made["job_id"])["status"] == "completed"
        await wait_logged(nc, stack, made["recording_id"], "PassagesEmbedded", timeout_s=60)
    rec = office["recording_id"]

    hits = eventually(lambda: search(client, PARAPHRASE, "semantic"), "the passages projected")
    assert hits[0]["recording_id"] == rec and hits[0]["job_id"] == office["job_id"], hits
    assert hits[0]["start"] <= LISBON[0] + 1 and hits[0]["end"] >= LISBON[1] - 1, "the hit covers the moment"
    assert "lisbon" in hits[0]["text"].lower() and hits[0]["score"] > 0.3
    assert search(client, PARAPHRASE, "keyword") == [], "no word of the question is in the recording"
    assert search(client, PARAPHRASE, "hybrid")[0]["recording_id"] == rec
    assert search(client, "giraffe", "semantic") == [], "nothing is near an unrelated word"

    answer = ask(client, PARAPHRASE)
    assert answer["engine"] == "extractive" and answer["found"], answer
    cited = answer["citations"][0]
    assert (cited["recording_id"], cited["job_id"]) == (rec, office["job_id"])
    assert cited["start"] <= LISBON[0] + 1 and cited["end"] >= LISBON[1] - 1 and cited["text"] in answer["answer"]
    scoped = ask(client, PARAPHRASE, recording_ids=[launch["recording_id"]])
    assert rec not in {c["recording_id"] for c in scoped["citations"]}, "only the recordings asked about"
    unanswerable = ask(client, "What is the capital of Australia?")
    assert not unanswerable["found"] and unanswerable["citations"] == []
    assert unanswerable["answer"].startswith("Not found")
    refused = client.post("/v1/ask", json={"question": "x" * 600})
    assert refused.status_code in (400, 422) and refused.json()["code"], refused.text

    other = await client_on(stack, "ask-other-tenant")
    for mode in ("semantic", "hybrid", "keyword"):
        assert search(other, PARAPHRASE, mode) == [] and search(other, "Lisbon office", mode) == []
    assert ask(other, PARAPHRASE)["citations"] == []

    deleted = client.delete(f"/v1/recordings/{rec}")
    assert deleted.status_code == 202
    token = {"min_seq": deleted.headers["X-Consistency-Token"]}
    assert client.get(f"/v1/recordings/{rec}", params=token).status_code == 404
    for mode in ("semantic", "hybrid"):
        assert rec not in {h["recording_id"] for h in search(client, PARAPHRASE, mode)}
    assert rec not in {c["recording_id"] for c in ask(client, PARAPHRASE)["citations"]}
