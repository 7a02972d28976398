"""Chaos: kill -9 the gateway right after a 202, and the projector in the middle of a run of jobs."""

import httpx
import pytest

from tests.helpers import eventually, new_client, started_stack, upload, wait_job
from voxledger.runtime.db import create_pool


@pytest.fixture(scope="module")
def chaos_stack(tmp_path_factory):
    with started_stack(tmp_path_factory.mktemp("chaos"), env={"VOXLEDGER_MAX_AUDIO_DURATION_S": "120"}) as stack:
        yield stack


def test_audio_over_the_configured_length_fails_with_its_code(chaos_stack):
    with new_client(chaos_stack, "too-long") as client:
        accepted = upload(client, "bench_300s.ogg").json()
        failed = wait_job(client, accepted["job_id"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "audio_too_long"
    assert failed["attempt"] == 1, "a permanent failure is not retried"


def test_a_202_holds_when_the_gateway_dies_right_after_sending_it(chaos_stack):
    with new_client(chaos_stack, "gateway-chaos") as client:
        accepted = upload(client, "short_meeting.ogg", await_visible=False)
        assert accepted.status_code == 202
        chaos_stack.service("gateway").proc.kill()
        chaos_stack.restart("gateway")
        chaos_stack.wait_ready()
        assert wait_job(client, accepted.json()["job_id"])["status"] == "completed"


async def test_the_read_model_converges_after_the_projector_is_killed_mid_run(chaos_stack, client_on):
    client = await client_on(chaos_stack, "projector-chaos")
    accepted = [upload(client, "short_meeting.ogg").json() for _ in range(10)]
    chaos_stack.service("projector").proc.kill()
    accepted += [upload(client, "short_meeting.ogg", await_visible=False).json() for _ in range(10)]
    chaos_stack.restart("projector")
    # The projector applies in log order: once the newest job is visible, every earlier one is too.
    newest = f"/v1/jobs/{accepted[-1]['job_id']}"
    eventually(lambda: client.get(newest).status_code != 404, "the restarted projector caught up", 60)
    jobs = [wait_job(client, a["job_id"], timeout_s=300) for a in accepted]
    assert all(j["status"] == "completed" for j in jobs)

    async def rows() -> tuple[int, int, dict]:
        pool = await create_pool(chaos_stack.database_url, max_size=1)
        try:
            ids = [a["job_id"] for a in accepted]
            recordings = await pool.fetchval(
                "SELECT count(*) FROM recordings WHERE recording_id = ANY($1::uuid[])",
                [a["recording_id"] for a in accepted],
            )
            job_rows = await pool.fetchval("SELECT count(*) FROM jobs WHERE job_id = ANY($1::uuid[])", ids)
            per_job = await pool.fetch(
                "SELECT job_id, count(*) AS n, count(DISTINCT idx) AS distinct_n FROM segments"
                " WHERE job_id = ANY($1::uuid[]) GROUP BY job_id",
                ids,
            )
            return recordings, job_rows, {r["job_id"]: (r["n"], r["distinct_n"]) for r in per_job}
        finally:
            await pool.close()

    recordings, job_rows, segments = await rows()
    assert recordings == 20 and job_rows == 20, "exactly one row each: nothing lost, nothing doubled"
    for job in jobs:
        assert segments[job["job_id"]] == (job["segment_count"], job["segment_count"]), job["job_id"]
    assert httpx.get(f"{chaos_stack.http_url}/readyz").status_code == 200
