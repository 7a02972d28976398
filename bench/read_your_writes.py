"""Read-your-writes: what a read with the consistency token of a 202 adds to its latency.

Each round uploads a recording (POST, 202 with `X-Consistency-Token`), then lists the
recordings once with `?min_seq=<token>` and once without; the difference is what waiting
for the projection costs. Every token read must show the new recording.

Run: `uv run python -m bench.read_your_writes [--rounds 200]`. Prints a table.
"""

import argparse
import os
import sys
import time

from bench.readmodel_stack import bench_stack, percentile
from tests.helpers import AUDIO, new_client


def timed_get(client, params: dict):
    started = time.perf_counter()
    response = client.get("/v1/recordings", params=params)
    return response, (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    audio = (AUDIO / "short_meeting.ogg").read_bytes()
    with_token, without, stale = [], [], 0
    with bench_stack({"postproc": 0}) as stack, new_client(stack, "bench") as client:
        for i in range(args.rounds + 10):
            accepted = client.post("/v1/recordings", files={"file": ("a.ogg", audio)}, data={"transcribe": "false"})
            token = accepted.headers["X-Consistency-Token"]
            read, waited = timed_get(client, {"min_seq": token, "limit": 1})
            _, plain = timed_get(client, {"limit": 1})
            stale += "X-Read-Model-Stale" in read.headers
            assert read.json()["items"][0]["recording_id"] == accepted.json()["recording_id"], (
                "the token read missed it"
            )
            if i >= 10:  # the first rounds warm up connections and caches
                with_token.append(waited)
                without.append(plain)
    added = [w - p for w, p in zip(with_token, without, strict=True)]
    out = sys.stdout
    out.write(
        f"\nread-your-writes, {args.rounds} rounds: POST /v1/recordings, then GET /v1/recordings with and without the token\n\n"
    )
    out.write(f"{'':<22}{'p50 ms':>9}{'p99 ms':>9}\n")
    for name, values in (("GET with token", with_token), ("GET without token", without), ("added by the token", added)):
        out.write(f"{name:<22}{percentile(values, 50):>9.1f}{percentile(values, 99):>9.1f}\n")
    out.write(f"\nstale answers: {stale} of {args.rounds}; 1-minute load average {os.getloadavg()[0]:.1f} on 2 cores\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
