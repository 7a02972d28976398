from voxledger.transcriber.settings import ModelSettings


class LiveSettings(ModelSettings, kw_only=True, frozen=True):
    live_max_sessions: int = 2  # sessions one worker holds at once; more wait for another worker (admission)
    # Of those, one tenant's at most (0: half of live_max_sessions, at least 1), so other tenants always find room.
    live_max_sessions_per_tenant: int = 0
    live_min_chunk_s: float = 0.5  # new audio between two passes of the model over the buffer
    live_max_buffer_s: float = 15.0  # a buffer this long is finalized even mid-sentence
    live_beam_size: int = 5
    live_inactivity_timeout_s: float = 30.0  # no audio for this long (client gone or silent): the session ends
    # A held session ends (max_duration) after this long on the wall clock, whatever audio it sent.
    live_max_wall_s: float = 5 * 3600.0
    # ...and (inactivity) once it sent under this much audio per second over the last window: a real client sends
    # about 1.0 (silence too is audio); one that trickles a sample now and then must not hold a slot.
    live_min_audio_ratio: float = 0.25
    live_audio_window_s: float = 60.0
    live_scan_interval_s: float = 0.25  # how often a worker looks for new or orphaned sessions
    live_max_attempts: int = 3  # holds of one session that fail on this worker before it ends as failed
    live_max_claims: int = 10  # times workers may take one session (takeovers included) before it ends as failed

    @property
    def tenant_share(self) -> int:
        """Sessions one tenant may hold on one worker."""
        return self.live_max_sessions_per_tenant or max(1, self.live_max_sessions // 2)
