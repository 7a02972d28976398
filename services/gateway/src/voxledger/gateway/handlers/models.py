"""GET /v1/models: the models this deployment serves; a job may name only one of these."""

import msgspec
from litestar import Request, get

from voxledger.gateway.domain.models import ServedModel


class ModelList(msgspec.Struct):
    items: list[ServedModel]
    default: str


@get("/v1/models", summary="The models this deployment serves, which is the default, and their languages")
async def list_models(request: Request, tenant: str) -> ModelList:  # noqa: ARG001 (authenticated like every /v1 route)
    catalog = request.app.state.models
    return ModelList(items=catalog.listing(), default=catalog.default)
