"""Request forgery guard: which addresses an outbound request (a webhook) may go to.

Pure checks on `ipaddress` values, plus one resolver that applies them to every address a host
name resolves to. The gateway checks at create and update; the delivery checks again, and then
connects to the very address it checked, so a DNS answer that changes in between cannot redirect it.
"""

import asyncio
import ipaddress
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def non_global_reason(address: Address) -> str | None:
    """Why a request must not go to `address` (loopback, private, link-local, ...), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return non_global_reason(address.ipv4_mapped)  # ::ffff:127.0.0.1 is loopback too
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("unspecified", address.is_unspecified),
        ("not globally routable", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def check_address(address: Address, allow_private: bool) -> None:
    if allow_private:
        return
    if (reason := non_global_reason(address)) is not None:
        raise AddressRefused("private_address", f"{address} is a {reason} address; webhooks go to public ones only")


def literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_checked(host: str, port: int, allow_private: bool) -> list[Address]:
    """Every address `host` resolves to, each checked; one refused address refuses the host."""
    literal = literal_address(host)
    if literal is not None:
        found = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as err:
            raise AddressRefused("unresolvable_host", f"{host} does not resolve") from err
        found = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not found:
        raise AddressRefused("unresolvable_host", f"{host} does not resolve")
    for address in found:
        check_address(address, allow_private)
    return found
