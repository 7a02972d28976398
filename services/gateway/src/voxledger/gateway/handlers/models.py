"""GET /v1/models: the models this deployment serves; a job may name only one of these."""

from litestar import get
from litestar.di import NamedDependency

from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.schemas import ModelList


@get("/models", summary="The models this deployment serves, which is the default, and their languages")
async def list_models(tenant: NamedDependency[str], catalog: NamedDependency[ModelCatalog]) -> ModelList:  # noqa: ARG001 (authenticated like every /v1 route)
    return ModelList(items=catalog.listing(), default=catalog.default)
