"""A job's diarization run (jobs/diarizing.py) on real files: its decode has the length limit, and a stop reaches it
while it decodes, not only between the model's batches."""

import time

import pytest

from tests.audio_gen import silent_flac
from voxledger.transcriber.adapters import audio
from voxledger.transcriber.domain.media import AudioError
from voxledger.transcriber.domain.speakers import SpeakerCount
from voxledger.transcriber.jobs.diarizing import DiarizationRun, Stopped


@pytest.fixture(scope="module")
def hour(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "hour.flac"
    path.write_bytes(silent_flac(3600))
    return path


@pytest.fixture(scope="module")
def whole_decode_s(hour) -> float:
    """What decoding the whole hour takes on this machine now: the yardstick, so a busy machine fails nothing."""
    started = time.monotonic()
    audio.decode(hour)
    return time.monotonic() - started


async def settle(run: DiarizationRun, timeout_s: float = 30) -> None:
    """Waits for the run's end; its error, if any, is raised here."""
    started = time.monotonic()
    while not run.done():
        await run.wait(0.05)
        assert time.monotonic() - started < timeout_s, "the run did not end"
    run.turns()


async def test_a_file_over_the_limit_is_refused_before_decoding(hour, whole_decode_s):
    started = time.monotonic()
    with pytest.raises(AudioError) as refused:
        await settle(DiarizationRun(hour, SpeakerCount(), max_duration_s=600))
    assert refused.value.code == "audio_too_long" and time.monotonic() - started < whole_decode_s / 4


async def test_a_stop_ends_the_decode_at_its_next_frame(hour, whole_decode_s):
    run = DiarizationRun(hour, SpeakerCount(), max_duration_s=4 * 3600)
    run.stop()
    started = time.monotonic()
    with pytest.raises(Stopped):
        await settle(run)
    assert time.monotonic() - started < whole_decode_s / 4
