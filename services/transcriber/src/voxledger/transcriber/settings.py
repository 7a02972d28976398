from voxledger.runtime.settings import CommonSettings


class TranscriberSettings(CommonSettings, kw_only=True, frozen=True):
    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: CTranslate2 picks
    allow_model_download: bool = False
    worker_name: str = ""
    ack_wait_s: float = 30.0
    heartbeat_s: float = 5.0
    max_attempts: int = 3
    retry_base_s: float = 2.0
    progress_interval_s: float = 1.0
    segment_batch_max: int = 8
    segment_batch_age_s: float = 1.0
    shutdown_grace_s: float = 10.0  # on SIGTERM, how long to wait for the current job to be handed back
    max_audio_duration_s: float = 4 * 3600.0  # longer recordings fail with audio_too_long
