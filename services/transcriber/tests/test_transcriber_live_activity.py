"""A held live session earns its slot: the wall-clock cap and the minimum of audio over a window. Pure."""

from voxledger.transcriber.live.domain.activity import ActivityRules, SessionActivity

RULES = ActivityRules(max_wall_s=100.0, window_s=10.0, min_audio_ratio=0.5)


def test_real_time_audio_keeps_a_session_until_the_wall_clock_cap():
    activity = SessionActivity(RULES, started_at=0.0)
    for tenth in range(1, 1000):
        activity.add(tenth / 10, 0.1)
        assert activity.verdict(tenth / 10) is None
    assert activity.verdict(100.5) == "max_duration"


def test_a_trickle_ends_once_a_whole_window_has_passed():
    activity = SessionActivity(RULES, started_at=0.0)
    for second in range(10):
        activity.add(float(second), 0.01)
        assert activity.verdict(float(second)) is None, "too early to judge"
    assert activity.verdict(10.0) == "inactivity"


def test_audio_that_left_the_window_no_longer_counts():
    activity = SessionActivity(RULES, started_at=0.0)
    activity.add(1.0, 9.0)  # a burst, then nothing
    assert activity.verdict(10.0) is None
    assert activity.verdict(11.5) == "inactivity"
