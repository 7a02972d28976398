from voxledger.runtime.settings import CommonSettings


class ProjectorSettings(CommonSettings, kw_only=True, frozen=True):
    batch_max: int = 500
