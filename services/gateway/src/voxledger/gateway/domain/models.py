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
                english_only=_english_only(name),
                languages=languages_of(name),
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

    def check_language(self, model: str | None, language: str | None) -> None:
        """`unsupported_language` where the model (None: the default) cannot transcribe the language named."""
        name = model or self.default
        known = languages_of(name)
        if language is None or known is None or language in known:
            return
        detail = f"model {name!r} transcribes {', '.join(known)} only, not {language!r}; name a multilingual model"
        raise Unacceptable("unsupported_language", detail, "language")


def _english_only(name: str) -> bool:
    return name.endswith(".en")


def languages_of(name: str) -> list[str] | None:
    """The languages a model transcribes; None: any whisper knows. The gateway loads no model, so by its name."""
    return ["en"] if _english_only(name) else None
