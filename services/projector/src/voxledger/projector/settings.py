from voxledger.runtime.settings import CommonSettings


class ProjectorSettings(CommonSettings, kw_only=True, frozen=True):
    batch_max: int = 5000  # events per transaction at most; under light load a batch is what has arrived
    standby_poll_s: float = 0.5  # how often a standby instance tries to take the lease
