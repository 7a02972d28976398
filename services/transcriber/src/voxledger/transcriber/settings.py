from typing import Annotated

import msgspec

from voxledger.runtime.settings import CommonSettings


class ModelSettings(CommonSettings, kw_only=True, frozen=True):
    """What every process that runs faster-whisper needs: the batch worker and the live worker."""

    model: str = "tiny.en"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: CTranslate2 picks
    allow_model_download: bool = False
    worker_name: str = ""


class TranscriberSettings(ModelSettings, kw_only=True, frozen=True):
    ack_wait_s: float = 30.0
    heartbeat_s: float = 5.0
    max_attempts: int = 3
    retry_base_s: float = 2.0
    progress_interval_s: float = 1.0
    segment_batch_max: int = 8
    segment_batch_age_s: float = 1.0
    shutdown_grace_s: float = 10.0  # on SIGTERM, how long to wait for the current job to be handed back
    max_audio_duration_s: float = 4 * 3600.0  # longer recordings fail with audio_too_long
    # Jobs at once: one model child process each, so memory is bounded by concurrency x model.
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    # An attempt's time limit: floor + factor x remaining audio x this worker's measured compute per audio second.
    attempt_timeout_floor_s: float = 120.0
    attempt_timeout_factor: float = 3.0
    initial_realtime_factor: float = 1.0  # compute per audio second assumed before the first job is measured
    model_start_timeout_s: float = 180.0
    stop_grace_s: float = 1.0  # a stopped model call that takes longer is killed
    # Jobs that name no batch_size: chunks decoded at once (1: sequential). Measured in bench/pipeline.py.
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=32)] = 8
    # The fair dispatcher (dispatch/): how often the active one looks for a free worker, and a standby for the lease.
    dispatch_poll_s: float = 0.05
    dispatch_standby_poll_s: float = 1.0
    # Long recordings (jobs without speakers) are split at silences into chunks that any transcriber takes:
    # longer than chunk_threshold_s (0: never), into equal chunks of about chunk_s (45 s: faster than 60 s and
    # as accurate, bench/chunked.py), each decoded on chunk_overlap_s into the next one. A cut goes at the
    # quietest 50 ms within chunk_search_s of each equal split.
    chunk_threshold_s: Annotated[float, msgspec.Meta(ge=0)] = 600.0
    chunk_s: Annotated[float, msgspec.Meta(ge=5)] = 45.0
    chunk_overlap_s: Annotated[float, msgspec.Meta(ge=0, le=10)] = 1.5
    chunk_search_s: Annotated[float, msgspec.Meta(ge=0.5, le=30)] = 3.0
