"""SpeakersDiarized in the read model: the job's turns, times and labels only."""

from datetime import UTC, datetime

from voxledger.contracts import events as ev
from voxledger.contracts.envelope import decode, encode, seal
from voxledger.projector.domain.ops import Update
from voxledger.projector.domain.projection import project

JOB = "0190f0c0-0000-7000-8000-000000000001"


def test_turns_land_on_the_job_row():
    body = ev.SpeakersDiarized(job_id=JOB, turns=[ev.SpeakerTurn(0.0, 1.5, "S1")], processing_s=0.4)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    message = decode(
        encode(seal(body, aggregate_id="0190f0c0-0000-7000-8000-0000000000aa", tenant_id="t", occurred_at=at))
    )
    (op,) = project(message, 42)
    assert op == Update(
        "jobs", {"job_id": JOB}, {"speaker_turns": [[0.0, 1.5, "S1"]], "updated_at": at, "last_seq": 42}
    )
