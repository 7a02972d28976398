from voxledger.runtime.settings import CommonSettings


class ProjectorSettings(CommonSettings, kw_only=True, frozen=True):
    batch_max: int = 5000  # events per transaction at most; under light load a batch is what has arrived
    standby_poll_s: float = 0.5  # how often a standby instance tries to take the lease
    # Serves this process's Prometheus metrics (voxledger_projector_quarantined_events) when set; 0: off.
    projector_metrics_port: int = 0
    projector_metrics_host: str = "127.0.0.1"
