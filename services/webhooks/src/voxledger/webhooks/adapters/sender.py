"""One HTTP attempt: resolve and check the target, POST to the checked address, keep a short excerpt.

The connection goes to the address that was checked (the Host header and TLS name stay the URL's),
so a DNS answer that changes between check and connect cannot send it somewhere private.
Redirects are never followed.
"""

import time

import httpx

from voxledger.runtime.netguard import AddressRefused, resolve_checked
from voxledger.webhooks.domain.delivery import EXCERPT_CHARS, AttemptResult

USER_AGENT = "voxledger-webhooks/0.1"


class Sender:
    def __init__(self, connect_timeout_s: float, response_timeout_s: float, allow_private: bool):
        timeout = httpx.Timeout(response_timeout_s, connect=connect_timeout_s)
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)
        self._allow_private = allow_private

    async def close(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        target = httpx.URL(url)
        host = target.host
        try:
            addresses = await resolve_checked(
                host, target.port or (443 if target.scheme == "https" else 80), self._allow_private
            )
        except AddressRefused as err:
            return AttemptResult(error=err.code, response_excerpt=err.message)
        pinned = target.copy_with(host=str(addresses[0]))
        started = time.monotonic()
        headers = {
            **headers,
            "Host": target.netloc.decode(),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        try:
            request = self._client.build_request(
                "POST", pinned, headers=headers, content=body, extensions={"sni_hostname": host}
            )
            response = await self._client.send(request, stream=True)
            try:
                excerpt = await _excerpt(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return AttemptResult(error="timeout", latency_ms=_ms(started))
        except httpx.HTTPError as err:
            return AttemptResult(error="connection_error", latency_ms=_ms(started), response_excerpt=str(err)[:200])
        error = "redirect_not_followed" if response.is_redirect else None
        return AttemptResult(
            status_code=response.status_code, error=error, latency_ms=_ms(started), response_excerpt=excerpt
        )


async def _excerpt(response: httpx.Response) -> str:
    """The first bytes of the body only: the rest is never read into memory, let alone stored."""
    kept = b""
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= EXCERPT_CHARS * 4:
            break
    return kept.decode(errors="replace")[:EXCERPT_CHARS]


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
