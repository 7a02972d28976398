"""GET /v1/models: the models this deployment serves; a job may name only one of these. OpenAI's shape too."""

import time

from litestar import get
from litestar.di import NamedDependency

from voxledger.gateway.domain import openai
from voxledger.gateway.domain.errors import not_found
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.http.params import ModelId
from voxledger.gateway.schemas import ModelList, OpenAIModel

STARTED = int(time.time())  # OpenAI's `created`: voxledger has no model release dates, so when this gateway started


def _openai_models(catalog: ModelCatalog) -> list[OpenAIModel]:
    """The served models, then the OpenAI names that stand for the default one."""
    names = [m.name for m in catalog.listing()] + list(openai.OPENAI_MODELS)
    return [OpenAIModel(**openai.model_object(name, STARTED)) for name in names]


@get(
    "/models",
    summary="The models this deployment serves, which is the default, and their languages",
    opt={"scope": "read"},
)
async def list_models(tenant: NamedDependency[str], catalog: NamedDependency[ModelCatalog]) -> ModelList:  # noqa: ARG001 (authenticated like every /v1 route)
    return ModelList(items=catalog.listing(), default=catalog.default, data=_openai_models(catalog))


@get(
    "/models/{model_id:str}",
    summary="One model in OpenAI's shape: a served model, or an OpenAI name for the default",
    opt={"scope": "read"},
)
async def get_model(
    tenant: NamedDependency[str], catalog: NamedDependency[ModelCatalog], model_id: ModelId
) -> OpenAIModel:  # noqa: ARG001
    for model in _openai_models(catalog):
        if model.id == model_id:
            return model
    raise not_found("model", f"model {model_id[:64]!r} is not served here")
