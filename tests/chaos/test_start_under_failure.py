"""A stack whose services fail while it starts: a NATS node killed and a transcriber lost mid-start.

`voxledger up` used to stop every service when one exited before the stack was ready ("transcriber-0 exited
with 1 during start"), so a node lost in those seconds took the whole stack down. Now a service that fails
while starting is restarted with backoff like one that fails later, its start rides out the leader election,
and the stack reports ready only once it can take work.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.helpers import eventually, unstarted_stack, upload, wait_job
from voxledger.contracts import streams


async def stream_leader(nc, stream: str) -> str:
    return (await nc.jetstream(timeout=10).stream_info(stream)).cluster.leader


def gateway_ready(stack) -> bool:
    try:
        return httpx.get(f"{stack.http_url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def test_a_node_and_a_transcriber_lost_while_the_stack_starts_do_not_take_it_down(tmp_path, nats_on, client_on):
    stack = unstarted_stack(tmp_path / "data", nats_cluster=3, scale={"transcriber": 2})
    with ThreadPoolExecutor(1) as pool:
        starting = pool.submit(stack.start)
        try:
            # A transcriber that fails before it takes work: the start must restart it, not give up.
            victim = eventually(
                lambda: next((p for p in stack.processes if p.label == "transcriber-0"), None), "transcriber-0", 120
            )
            victim.proc.kill()
            # The gateway answers ready while the transcribers still start; then the data keys' leader goes.
            eventually(lambda: gateway_ready(stack) or starting.done(), "the gateway ready", 120)
            if starting.done():
                starting.result()  # a start that gave up raises here, its servers already stopped
            nc = await nats_on(stack)
            leader = await stream_leader(nc, f"KV_{streams.DATA_KEYS_BUCKET}")
            await nc.close()  # now: nats-py fails to close a connection still reconnecting to a stopped stack
            stack.nats.kill_node(stack.nats.node_of(leader))
            killed_at = time.monotonic()
            starting.result(timeout=240)  # raises if the start gave up
            up_after_s = time.monotonic() - killed_at
            assert all(p.proc.poll() is None for p in stack.processes), [p.label for p in stack.processes]
            assert stack.service("transcriber", 0).restarts >= 1
            # Ready means it takes work: an upload straight away is transcribed.
            client = await client_on(stack, "start-under-failure")
            accepted = upload(client, "short_meeting.ogg")
            assert accepted.status_code == 202, accepted.text
            assert wait_job(client, accepted.json()["job_id"])["status"] == "completed"
            print(f"\nstack up {up_after_s:.1f} s after the node was killed")
        finally:
            if starting.exception(timeout=240) is None:  # a start that failed has stopped the stack itself
                stack.stop()
