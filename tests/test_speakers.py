"""Speakers end to end on the shared stack: a two-speaker upload comes back with two speakers, in every format.

One journey, to keep the suite lean: options, the SpeakersDiarized event, labelled and split segments, TXT,
SRT, WebVTT voice spans, the RTTM export and talk time per speaker against the fixture's reference turns.
"""

from collections import Counter
from pathlib import Path

from tests.der import read_rttm, score
from tests.helpers import read_events, upload, wait_job
from tests.test_transcription_pipeline import SRT_TIME, VTT_TIME, _cue_times

FIXTURE = "../diarization/two_speakers.ogg"
REFERENCE = read_rttm(Path(__file__).parent / "fixtures" / "diarization" / "two_speakers.rttm")


def _reference_speaker(t: float) -> str | None:
    return next((who for start, end, who in REFERENCE if start <= t < end), None)


def test_a_two_speaker_upload_comes_back_with_two_speakers_in_every_format(client):
    refused = upload(client, FIXTURE, await_visible=False, speakers="many")
    assert refused.status_code in (400, 422) and refused.json()["code"] == "invalid_speakers", refused.text

    accepted = upload(client, FIXTURE, speakers="auto", word_timestamps="true")
    assert accepted.status_code == 202, accepted.text
    recording_id, job_id = accepted.json()["recording_id"], accepted.json()["job_id"]
    events = read_events(client, recording_id, until="TranscriptionCompleted", job_id=job_id)
    diarized = [e["data"] for e in events if e["event"] == "SpeakersDiarized"]
    assert len(diarized) == 1 and {t[2] for t in diarized[0]["turns"]} == {"S1", "S2"}
    assert all(len(t) == 3 for t in diarized[0]["turns"])  # times and labels only, no text
    progress = [e["data"]["progress"] for e in events if e["event"] == "TranscriptionProgressed"]
    assert progress == sorted(progress), progress  # the diarizing stage never sets progress back
    types = [e["event"] for e in events]
    assert types.index("SpeakersDiarized") < types.index("TranscriptionCompleted")
    assert wait_job(client, job_id)["status"] == "completed"

    path = f"/v1/recordings/{recording_id}/transcript"
    transcript = client.get(path, params={"min_seq": events[-1]["id"]}).json()
    assert transcript["speakers"] == ["S1", "S2"]
    segments = transcript["segments"]
    assert segments and all(s["speaker"] in ("S1", "S2") for s in segments)
    # Each label stands for one reference voice: the segments' labels agree with the reference turns.
    pairs = Counter((s["speaker"], _reference_speaker((s["start"] + s["end"]) / 2)) for s in segments)
    agree = sum(max(pairs[(label, ref)] for ref in ("Tom", "Ann")) for label in ("S1", "S2"))
    assert agree >= 0.9 * len(segments), pairs

    txt = client.get(path, params={"format": "txt"}).text
    assert txt.startswith("S1: ") and "\nS2: " in txt
    srt = client.get(path, params={"format": "srt"}).text
    vtt = client.get(path, params={"format": "vtt"}).text
    assert "S2: " in srt and "<v S1>" in vtt and "<v S2>" in vtt
    for cues in (_cue_times(srt, SRT_TIME), _cue_times(vtt, VTT_TIME)):  # split at speaker changes, none empty
        assert cues and all(start < end for start, end in cues), cues

    rttm = client.get(path, params={"format": "rttm"})
    assert rttm.status_code == 200 and rttm.text.startswith(f"SPEAKER {recording_id} 1 ")
    turns = [(float(f[3]), float(f[3]) + float(f[4]), f[7]) for f in (line.split() for line in rttm.text.splitlines())]
    result = score(REFERENCE, turns)
    assert result.der <= 0.10 and result.hyp_speakers == 2, result
    # Talk time per speaker matches the reference turns within 10%.
    mapping = {label: max(("Tom", "Ann"), key=lambda ref: pairs[(label, ref)]) for label in ("S1", "S2")}
    for label, ref in mapping.items():
        said = sum(e - s for s, e, who in REFERENCE if who == ref)
        found = sum(e - s for s, e, who in turns if who == label)
        assert abs(found - said) <= 0.1 * said, (label, ref, found, said)

    # Analytics count per speaker (the run after completion saw the turns): talk time within 10% of reference.
    done = read_events(client, recording_id, until="InsightsCompleted", job_id=job_id)
    insights = client.get(f"/v1/recordings/{recording_id}/insights", params={"min_seq": done[-1]["id"]}).json()
    per_speaker = {s["speaker"]: s for s in insights["insights"]["analytics"]["payload"]["speakers"]}
    assert set(per_speaker) == {"S1", "S2"}, per_speaker
    for label, ref in mapping.items():
        said = sum(e - s for s, e, who in REFERENCE if who == ref)
        assert abs(per_speaker[label]["talk_time_s"] - said) <= 0.1 * said, (label, per_speaker[label], said)

    # Search filters by speaker: only the segments that speaker speaks in.
    search = {"q": "Thursday", "min_seq": done[-1]["id"], "mode": "keyword"}
    hits = {who: client.get("/v1/search", params={**search, "speaker": who}).json()["items"] for who in ("S1", "S2")}
    everyone = client.get("/v1/search", params=search).json()["items"]
    assert everyone and len(hits["S1"]) + len(hits["S2"]) >= len(everyone), (hits, everyone)
    assert all(h in everyone for found in hits.values() for h in found)
    assert all(h["recording_id"] == recording_id for found in hits.values() for h in found)
    assert client.get("/v1/search", params={**search, "speaker": "S9"}).json()["items"] == []

    # Names: a rename and a merge are events; every rendering shows them at once.
    unknown = client.patch(f"/v1/recordings/{recording_id}/speakers", json={"names": {"S7": "Nobody"}})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_speaker", unknown.text
    renamed = client.patch(f"/v1/recordings/{recording_id}/speakers", json={"names": {"S1": "Maria Lopez"}})
    assert renamed.status_code == 202 and renamed.json()["speakers"] == {"S1": "Maria Lopez", "S2": "S2"}
    fresh = {"min_seq": renamed.headers["X-Consistency-Token"]}
    assert client.get(path, params=fresh).json()["speakers"] == ["Maria Lopez", "S2"]
    assert "<v Maria Lopez>" in client.get(path, params={"format": "vtt"}).text
    assert "Maria_Lopez" in client.get(path, params={"format": "rttm"}).text
    by_name = client.get("/v1/search", params={**search, "speaker": "Maria Lopez", **fresh}).json()["items"]
    assert by_name == hits["S1"]
    merged = client.patch(f"/v1/recordings/{recording_id}/speakers", json={"merge": {"S2": "S1"}})
    assert merged.status_code == 202, merged.text
    after = client.get(path, params={"min_seq": merged.headers["X-Consistency-Token"]}).json()
    assert after["speakers"] == ["Maria Lopez"] and {s["speaker"] for s in after["segments"]} == {"Maria Lopez"}

    # Re-run without re-transcribing, with its own options: the turns are replaced, the names dropped.
    rerun = client.post(f"/v1/recordings/{recording_id}/diarization", json={"speakers": 3})
    assert rerun.status_code == 202, rerun.text
    run_id = rerun.json()["run_id"]
    events = read_events(client, recording_id, until="SpeakersDiarized", last_event_id=events[-1]["id"])
    while events[-1]["data"].get("run_id") != run_id:
        events += read_events(client, recording_id, until="SpeakersDiarized", last_event_id=events[-1]["id"])
    again = client.get(path, params={"min_seq": events[-1]["id"]}).json()
    assert again["speakers"] == ["S1", "S2", "S3"] and {t[2] for t in events[-1]["data"]["turns"]} == {"S1", "S2", "S3"}
    assert [s["text"] for s in again["segments"]] and "SegmentsTranscribed" not in [e["event"] for e in events]
