"""/v1/settings: a tenant's settings (admin scope). Retention deletes old recordings as DELETE does.

A change is one durable command (`vl.cmd.tenant.ChangeRetention`); the tenant command handler appends
RetentionChanged, and the retention scheduler (retention.py) acts on it.
"""

from litestar import get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from voxledger.contracts import subjects
from voxledger.contracts.ids import new_id
from voxledger.contracts.retention import ChangeRetention
from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.retention import retention_of
from voxledger.gateway.tenant_schemas import TenantSettings


@get("/settings", summary="The tenant's settings", opt={"scope": "admin"})
async def get_settings(tenant: NamedDependency[str], bus: NamedDependency[Bus]) -> TenantSettings:
    return TenantSettings(retention_days=await retention_of(bus.js, tenant))


@put(
    "/settings",
    status_code=202,
    summary="Change the tenant's settings: retention_days (null: keep)",
    opt={"scope": "admin"},
)
async def put_settings(
    tenant: NamedDependency[str], bus: NamedDependency[Bus], data: JSONBody[TenantSettings]
) -> TenantSettings:
    command = ChangeRetention(retention_days=data.retention_days)
    await bus.send(
        command, aggregate_id=tenant, tenant=tenant, dedup_key=f"settings:{new_id()}", target=subjects.TENANT
    )
    return data
