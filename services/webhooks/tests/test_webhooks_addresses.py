"""No request forgery: which addresses a webhook may go to, checked without the network."""

import ipaddress

import pytest

from voxledger.runtime.netguard import AddressRefused, check_address, non_global_reason, resolve_checked


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("0.0.0.0", "private"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("224.0.0.1", "multicast"),
    ],
)
def test_non_global_addresses_are_named_and_refused(address, reason):
    parsed = ipaddress.ip_address(address)
    assert non_global_reason(parsed) == reason
    with pytest.raises(AddressRefused) as refused:
        check_address(parsed, allow_private=False)
    assert refused.value.code == "private_address"
    check_address(parsed, allow_private=True)  # the setting lets it through


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"])
def test_public_addresses_pass(address):
    assert non_global_reason(ipaddress.ip_address(address)) is None


async def test_a_host_resolving_to_loopback_is_refused_and_an_unknown_one_does_not_resolve():
    with pytest.raises(AddressRefused) as refused:
        await resolve_checked("localhost", 80, allow_private=False)
    assert refused.value.code == "private_address"
    with pytest.raises(AddressRefused) as unknown:
        await resolve_checked("no-such-host.invalid", 80, allow_private=False)
    assert unknown.value.code == "unresolvable_host"
    assert await resolve_checked("[::1]", 80, allow_private=True) == [ipaddress.ip_address("::1")]
