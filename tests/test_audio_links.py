"""Audio links on the shared stack: `POST /v1/recordings/{id}/audio-link` gives a URL that plays one recording's
audio with byte ranges and no key, for minutes; nothing else opens with it, and it dies with the recording or
with the key that made it."""

import time
from datetime import datetime

import httpx

from tests.helpers import AUDIO, eventually, new_client, upload
from voxledger.gateway.domain.audio_links import HKDF_INFO, AudioLinks, LinkClaims
from voxledger.runtime.crypto import MasterKeys

TTL_S = 600  # VOXLEDGER_AUDIO_LINK_TTL_S's default: the shared stack does not set it


def link_of(client: httpx.Client, recording_id: str) -> dict:
    made = client.post(f"/v1/recordings/{recording_id}/audio-link")
    assert made.status_code == 200, made.text
    return made.json()


def keyless(stack) -> httpx.Client:
    return httpx.Client(base_url=stack.http_url, timeout=30)


def refused(response: httpx.Response, code: str = "invalid_audio_link") -> bool:
    return response.status_code == 401 and response.json()["code"] == code


def test_a_link_streams_its_recording_with_ranges_and_opens_nothing_else(stack):
    original = (AUDIO / "short_meeting.ogg").read_bytes()
    with new_client(stack, "audio-links-owner") as owner, keyless(stack) as anyone:
        mine = upload(owner, "short_meeting.ogg", transcribe="false").json()["recording_id"]
        other = upload(owner, "short_meeting.ogg", transcribe="false").json()["recording_id"]
        link = link_of(owner, mine)
        api_key = owner.headers["Authorization"].removeprefix("Bearer ")
        assert link["url"].startswith(f"/v1/recordings/{mine}/audio?link=") and api_key not in link["url"]
        expires = datetime.fromisoformat(link["expires_at"]).timestamp()
        assert time.time() + TTL_S - 60 < expires <= time.time() + TTL_S

        whole = anyone.get(link["url"])  # no Authorization header: the link stands for the key
        assert whole.status_code == 200 and whole.content == original
        part = anyone.get(link["url"], headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == original[1000:2000]
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(original)}"
        assert anyone.get(link["url"], headers={"Range": f"bytes={len(original)}-"}).status_code == 416

        token = link["url"].split("link=")[1]
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert refused(anyone.get(f"/v1/recordings/{mine}/audio", params={"link": forged}))
        assert refused(anyone.get(f"/v1/recordings/{other}/audio", params={"link": token}))  # not this recording's
        # The link decides where it is given, even next to a valid key: a request carries one credential.
        assert refused(owner.get(f"/v1/recordings/{mine}/audio", params={"link": forged}))
        for method, path in [
            ("GET", f"/v1/recordings/{mine}"),
            ("GET", f"/v1/recordings/{mine}/transcript"),
            ("GET", f"/v1/recordings/{mine}/events"),
            ("GET", "/v1/recordings"),
            ("POST", f"/v1/recordings/{mine}/audio-link"),
            ("DELETE", f"/v1/recordings/{mine}"),
            ("GET", f"/v1/recordings/{mine}/insights"),
        ]:  # only the audio route takes a link; anywhere else it is no credential at all
            answer = anyone.request(method, path, params={"link": token})
            assert refused(answer, "unauthorized"), (method, path, answer.status_code, answer.text[:200])
        assert owner.get(f"/v1/recordings/{mine}").status_code == 200  # nothing was deleted


def test_expired_and_other_tenant_links_are_refused(stack):
    # Tokens signed here with the deployment's master key, as any gateway would sign them: the gateway verifies
    # them with nothing but that key (no shared state), and refuses what the claims do not allow.
    links = AudioLinks(lambda: MasterKeys(stack.master_key_file).derive(HKDF_INFO))
    with new_client(stack, "audio-links-a") as a, new_client(stack, "audio-links-b") as b, keyless(stack) as anyone:
        recording = upload(a, "short_meeting.ogg", transcribe="false").json()["recording_id"]
        path = f"/v1/recordings/{recording}/audio"

        def sign(tenant: str, expires: float) -> str:
            return links.sign(recording, LinkClaims(tenant=tenant, key_id="signed-here", expires=int(expires)))

        assert anyone.get(path, params={"link": sign("audio-links-a", time.time() + 60)}).status_code == 200
        assert refused(anyone.get(path, params={"link": sign("audio-links-a", time.time() - 1)}))
        # B's key may not link to A's recording, and a link that names B opens nothing of A's.
        assert b.post(f"{path}-link").json()["code"] == "recording_not_found"
        theirs = anyone.get(path, params={"link": sign("audio-links-b", time.time() + 60)})
        assert theirs.status_code == 404 and theirs.json()["code"] == "recording_not_found"


def test_a_read_key_links_and_its_links_die_with_the_key_and_with_the_recording(stack):
    with new_client(stack, "audio-links-revoke") as admin, keyless(stack) as anyone:
        recording = upload(admin, "short_meeting.ogg", transcribe="false").json()["recording_id"]
        created = admin.post("/v1/keys", json={"label": "player", "scope": "read"}).json()
        reader = httpx.Client(base_url=stack.http_url, headers={"Authorization": f"Bearer {created['key']}"})
        with reader:
            made = eventually(
                lambda: (r := reader.post(f"/v1/recordings/{recording}/audio-link")).status_code != 401 and r,
                "the read key usable",
            )
            assert made.status_code == 200, made.text
        by_reader, by_admin = made.json()["url"], link_of(admin, recording)["url"]
        assert anyone.get(by_reader).status_code == 200
        assert admin.delete(f"/v1/keys/{created['id']}").status_code == 202
        eventually(lambda: refused(anyone.get(by_reader)), "the revoked key's link refused", 10)
        assert anyone.get(by_admin).status_code == 200  # another key's link is untouched

        assert admin.delete(f"/v1/recordings/{recording}").status_code == 202
        gone = eventually(lambda: (r := anyone.get(by_admin)).status_code == 404 and r, "the deleted audio gone")
        assert gone.json()["code"] in ("recording_not_found", "audio_not_found")
