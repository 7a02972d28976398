from voxledger.transcriber.settings import ModelSettings


class LiveSettings(ModelSettings, kw_only=True, frozen=True):
    live_max_sessions: int = 2  # sessions one worker holds at once; more wait for another worker (admission)
    live_min_chunk_s: float = 0.5  # new audio between two passes of the model over the buffer
    live_max_buffer_s: float = 15.0  # a buffer this long is finalized even mid-sentence
    live_beam_size: int = 5
    live_inactivity_timeout_s: float = 30.0  # no audio for this long (client gone or silent): the session ends
    live_scan_interval_s: float = 0.25  # how often a worker looks for new or orphaned sessions
    live_max_attempts: int = 3  # holds of one session that fail on this worker before it ends as failed
    live_max_claims: int = 10  # times workers may take one session (takeovers included) before it ends as failed
