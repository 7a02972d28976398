"""How long an attempt may take: from the audio left and the speed this worker has measured. Pure."""


class SpeedEstimate:
    """Compute seconds per audio second on this worker, as a moving average over finished attempts.

    Starts from a deliberately slow guess; the first measurement replaces it.
    """

    WEIGHT = 0.3  # of each new measurement

    def __init__(self, initial_realtime_factor: float):
        self.realtime_factor = initial_realtime_factor
        self.measured = False

    def observe(self, audio_s: float, compute_s: float) -> None:
        if audio_s < 1.0 or compute_s <= 0:
            return  # too short to say anything about speed
        sample = compute_s / audio_s
        if self.measured:
            sample = (1 - self.WEIGHT) * self.realtime_factor + self.WEIGHT * sample
        self.realtime_factor, self.measured = sample, True


def attempt_limit_s(remaining_audio_s: float, realtime_factor: float, floor_s: float, factor: float) -> float:
    """A fixed allowance (startup, model load) plus a multiple of the expected compute time."""
    return floor_s + factor * max(remaining_audio_s, 0.0) * realtime_factor
