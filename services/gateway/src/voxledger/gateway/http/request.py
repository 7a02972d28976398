"""The gateway's Request: its JSON body decoded as Litestar does, with deep nesting refused as bad input.

msgspec decodes recursively and raises RecursionError past Python's recursion limit (about 1,000
levels); Litestar lets that through as a 500. No request of this API nests more than a few levels.
"""

from typing import Any

from litestar import Request

from voxledger.gateway.domain.errors import Malformed


class GatewayRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise Malformed("json_too_deep", "the JSON body is nested too deeply") from None
