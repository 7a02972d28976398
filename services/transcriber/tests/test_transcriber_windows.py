"""Decoding only a window of a recording (chunks, and the quiet points of a plan), and finding the cuts."""

from pathlib import Path

import numpy as np
import pytest

from voxledger.transcriber.adapters.audio import SAMPLE_RATE, decode, decode_window, decode_windows, probe_duration
from voxledger.transcriber.jobs.planning import quiet_cuts

AUDIO = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "audio"


@pytest.mark.parametrize("name", ["short_meeting.wav", "bench_60s.ogg"])
def test_a_window_is_the_same_audio_as_that_stretch_of_the_whole_file(name):
    whole, duration_s = decode(AUDIO / name)
    assert probe_duration(AUDIO / name) == pytest.approx(duration_s, abs=0.05)
    for start_s in (0.0, 2.3, duration_s - 3.0):
        window = decode_window(AUDIO / name, start_s, start_s + 2.0)
        assert len(window) == 2 * SAMPLE_RATE
        same = whole[round(start_s * SAMPLE_RATE) :][: len(window)]
        # Opus after a seek warms its decoder up again for a few ms; the audio is otherwise the same.
        assert np.abs(window - same).mean() < 0.005, f"the window at {start_s} s is other audio"


@pytest.mark.parametrize("name", ["short_meeting.wav", "bench_60s.ogg"])
def test_windows_from_one_opening_are_the_windows_decoded_one_by_one(name):
    """Out of order, and one at 0 after the demuxer has moved on: each is sought afresh."""
    _, duration_s = decode(AUDIO / name)
    windows = [(duration_s - 3.0, duration_s - 1.0), (0.0, 2.0), (2.3, 4.3)]
    together = decode_windows(AUDIO / name, windows)
    assert [len(w) for w in together] == [2 * SAMPLE_RATE] * 3
    for (start_s, end_s), window in zip(windows, together, strict=True):
        assert np.array_equal(window, decode_window(AUDIO / name, start_s, end_s)), f"the window at {start_s} s"


def test_a_cut_goes_into_a_pause_not_into_a_word():
    whole, _ = decode(AUDIO / "bench_60s.ogg")
    cut, later = quiet_cuts(AUDIO / "bench_60s.ogg", [30.0, 45.0], 3.0)
    assert 27.0 <= cut <= 33.0 and 42.0 <= later <= 48.0
    around = whole[round((cut - 0.025) * SAMPLE_RATE) : round((cut + 0.025) * SAMPLE_RATE)]
    speech = whole[round(27 * SAMPLE_RATE) : round(33 * SAMPLE_RATE)]
    assert np.sqrt(np.mean(around**2)) < 0.1 * np.sqrt(np.mean(speech**2)), "the cut is in a quiet frame"
