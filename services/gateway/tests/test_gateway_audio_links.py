"""Audio links, pure: a token opens only the recording it was made for, until it expires, under any master key
of the deployment's file (a rotation breaks no link), and anything altered or malformed opens nothing."""

import base64
import os

import msgspec
import pytest

from voxledger.gateway.domain.audio_links import MAX_TOKEN_CHARS, AudioLinks, LinkClaims, _mac

OLD, NEW = os.urandom(32), os.urandom(32)
CLAIMS = LinkClaims(tenant="acme", key_id="k1", expires=2_000)


def test_a_link_opens_its_own_recording_until_it_expires():
    links = AudioLinks(lambda: [OLD])
    token = links.sign("rec-1", CLAIMS)
    assert links.verify(token, "rec-1", 1_999.5) == CLAIMS
    assert links.verify(token, "rec-1", 2_000) is None  # expired
    assert links.verify(token, "rec-2", 1_000) is None  # another recording's path
    assert AudioLinks(lambda: [NEW]).verify(token, "rec-1", 1_000) is None  # another deployment's key


def test_a_rotation_keeps_links_made_before_it_and_signs_with_the_new_key():
    before = AudioLinks(lambda: [OLD]).sign("rec-1", CLAIMS)
    rotated = AudioLinks(lambda: [NEW, OLD])  # the new key first, the old one kept until retired
    assert rotated.verify(before, "rec-1", 1_000) == CLAIMS
    after = rotated.sign("rec-1", CLAIMS)
    assert AudioLinks(lambda: [NEW]).verify(after, "rec-1", 1_000) == CLAIMS


def test_altered_claims_do_not_verify():
    links = AudioLinks(lambda: [OLD])
    token = links.sign("rec-1", CLAIMS)
    _, mac = token.split(".")
    for forged in (LinkClaims("other", "k1", 2_000), LinkClaims("acme", "k1", 9_999_999_999)):
        claims = base64.urlsafe_b64encode(msgspec.json.encode(forged)).rstrip(b"=").decode()
        assert links.verify(f"{claims}.{mac}", "rec-1", 1_000) is None


@pytest.mark.parametrize(
    "token",
    ["", ".", "abc", "abc.def", "!!.??", "é.é", "a" * MAX_TOKEN_CHARS + ".b", "W10.AAAA", "bm90IGpzb24.AAAA"],
)
def test_malformed_tokens_open_nothing(token):
    assert AudioLinks(lambda: [OLD]).verify(token, "rec-1", 1_000) is None


def test_well_signed_claims_of_the_wrong_shape_open_nothing():
    for raw in (b'["acme"]', b'{"tenant": "acme"}', b'["acme", "k1", "soon"]'):
        claims = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        mac = base64.urlsafe_b64encode(_mac(OLD, "rec-1", claims)).rstrip(b"=").decode()
        assert AudioLinks(lambda: [OLD]).verify(f"{claims}.{mac}", "rec-1", 1_000) is None
