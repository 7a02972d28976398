"""The shipped ONNX models on the project's multi-speaker fixtures: DER within the issue's bounds, the right count.

No stack: the models are small (about a second per fixture), so this runs with the pure tests.
"""

from pathlib import Path

import pytest

from tests.der import read_rttm, score
from voxledger.transcriber.adapters.audio import decode
from voxledger.transcriber.adapters.diarizer import Diarizer
from voxledger.transcriber.domain.speakers import SpeakerCount

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "diarization"
# The targets: at most 10% on the synthetic fixtures, 15% on the recorded voices (0.25 s collar).
BOUNDS = {"two_speakers": 0.10, "three_speakers": 0.10, "recorded": 0.15}


@pytest.fixture(scope="module")
def diarizer() -> Diarizer:
    return Diarizer()


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_der_and_speaker_count_on_each_fixture(diarizer, name):
    samples, _ = decode(FIXTURES / f"{name}.ogg")
    seen: list[float] = []
    turns = diarizer.diarize(samples, progress=seen.append)
    result = score(read_rttm(FIXTURES / f"{name}.rttm"), [(t.start, t.end, t.speaker) for t in turns])
    assert result.hyp_speakers == result.ref_speakers
    assert result.der <= BOUNDS[name], result
    assert seen == sorted(seen) and seen[-1] == 1.0  # progress only moves forward, to the end
    assert [t.speaker for t in turns][:1] == ["S1"]


def test_the_request_bounds_or_fixes_the_count(diarizer):
    samples, _ = decode(FIXTURES / "three_speakers.ogg")
    speakers = {t.speaker for t in diarizer.diarize(samples, SpeakerCount(exact=2))}
    assert speakers == {"S1", "S2"}
    assert len({t.speaker for t in diarizer.diarize(samples, SpeakerCount(max_speakers=2))}) == 2
    assert len({t.speaker for t in diarizer.diarize(samples, SpeakerCount(min_speakers=4))}) == 4
    assert diarizer.diarize(samples[:0]) == []
