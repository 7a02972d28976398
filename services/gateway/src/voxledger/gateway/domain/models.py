"""The models this deployment serves (`VOXLEDGER_SERVED_MODELS`): a job may only name one of them."""

import msgspec

from voxledger.gateway.domain.errors import Unacceptable
from voxledger.gateway.domain.validation import check_text

MAX_MODEL_CHARS = 64


class ServedModel(msgspec.Struct, kw_only=True):
    name: str
    default: bool  # the model a job without `model` gets
    english_only: bool  # whisper's `.en` models transcribe English only
    languages: list[str] | None  # None: any language the model knows (multilingual)
    preloaded: bool  # workers load the default model at start; the others on their first job
    local: bool  # loaded from a path on the workers (the path itself is a server setting and not shown)


class ModelCatalog:
    def __init__(self, served: dict[str, str | None]):
        self._served = dict(served)
        self.default = next(iter(self._served))

    def listing(self) -> list[ServedModel]:
        return [
            ServedModel(
                name=name,
                default=name == self.default,
                english_only=name.endswith(".en"),
                languages=["en"] if name.endswith(".en") else None,
                preloaded=name == self.default,
                local=path is not None,
            )
            for name, path in self._served.items()
        ]

    def check(self, model: str | None, field: str = "model") -> str | None:
        """The model to use (None: the default), or `unknown_model` naming what is served."""
        if model is None or not model.strip():
            return None
        check_text(model, field, MAX_MODEL_CHARS)
        if model not in self._served:
            served = ", ".join(self._served)
            raise Unacceptable("unknown_model", f"model {model!r} is not served here; served: {served}", field)
        return model
