"""Whether a held session still earns its slot: a wall-clock cap, and a minimum of audio over a sliding window.

A client that keeps its socket open but sends a sample now and then would otherwise hold a worker's slot for
hours. Pure: the caller passes the clock.
"""

from collections import deque
from dataclasses import dataclass

from voxledger.contracts.events import LiveEndReason


@dataclass(frozen=True)
class ActivityRules:
    max_wall_s: float  # a session held longer than this ends (max_duration)
    window_s: float  # the span over which audio is measured
    min_audio_ratio: float  # audio seconds per wall-clock second over the window; under it the session ends


class SessionActivity:
    def __init__(self, rules: ActivityRules, started_at: float):
        self._rules, self._started_at = rules, started_at
        self._recent: deque[tuple[float, float]] = deque()  # (arrived at, seconds of audio)
        self._in_window_s = 0.0

    def add(self, now: float, audio_s: float) -> None:
        self._recent.append((now, audio_s))
        self._in_window_s += audio_s

    def verdict(self, now: float) -> LiveEndReason | None:
        """Why the session must end now, or None while it earns its slot."""
        rules = self._rules
        if now - self._started_at > rules.max_wall_s:
            return "max_duration"
        while self._recent and self._recent[0][0] < now - rules.window_s:
            self._in_window_s -= self._recent.popleft()[1]
        held_long_enough = now - self._started_at >= rules.window_s
        if held_long_enough and self._in_window_s < rules.min_audio_ratio * rules.window_s:
            return "inactivity"
        return None
