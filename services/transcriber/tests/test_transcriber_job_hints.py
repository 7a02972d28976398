"""A job's decoding hints and the detected language's probability, through the decider: pure, without IO."""

import msgspec

from tests.decider import Scenario
from voxledger.contracts import events as ev
from voxledger.contracts.commands import UploadRecording
from voxledger.transcriber.adapters.model import FALLBACK_TEMPERATURES, temperatures
from voxledger.transcriber.domain.recording import Complete, Recording, StartAttempt, decide, evolve

REC, JOB1 = "0190f0c0-0000-7000-8000-0000000000aa", "0190f0c0-0000-7000-8000-000000000001"


def running() -> Scenario[Recording]:
    """A job with hints, in its first attempt."""
    agg = Scenario(decide, evolve, Recording())
    hints = ev.TranscriptionOptions(prompt="Acme", hotwords="budget", temperature=0.2)
    agg.when(
        UploadRecording(
            recording_id=REC, filename="a.wav", content_type="audio/wav", size_bytes=1, blob_key="recordings/a",
            blob_digest="sha256:00", job_id=JOB1, options=hints,
        )
    )  # fmt: skip
    agg.when(StartAttempt(job_id=JOB1, worker="w1", model="tiny.en"))
    return agg


def test_a_temperature_starts_the_fallback_schedule_where_the_job_asked():
    assert temperatures(None) == temperatures(0.0) == list(FALLBACK_TEMPERATURES)
    assert temperatures(0.5) == [0.5, 0.6, 0.8, 1.0]
    assert temperatures(1.0) == [1.0]


def test_old_options_decode_unchanged_and_unset_hints_are_not_written():
    old = b'{"model":"tiny.en","language":"en"}'
    options = msgspec.json.decode(old, type=ev.TranscriptionOptions)
    assert (options.prompt, options.hotwords, options.temperature) == (None, None, None)
    assert msgspec.json.encode(options) == old
    hinted = ev.TranscriptionOptions(prompt="Acme", temperature=0.0)
    assert msgspec.json.decode(msgspec.json.encode(hinted)) == {"prompt": "Acme", "temperature": 0.0}


def test_completion_carries_the_language_probability():
    agg = running()
    (done,) = agg.when(
        Complete(job_id=JOB1, attempt=1, language="en", duration_s=1.0, processing_s=0.1, language_probability=0.93)
    )
    assert isinstance(done, ev.TranscriptionCompleted) and done.language_probability == 0.93
    (legacy,) = running().when(Complete(job_id=JOB1, attempt=1, language="en", duration_s=1.0, processing_s=0.1))
    assert legacy.language_probability is None
