"""Transcript search latency over 10,000 transcripts, through the HTTP API.

Each transcript has 30 segments of 6 to 14 words drawn from a 5,000-word vocabulary with
natural (Zipf) word frequencies, built with the real contracts and projected by the real
projector. Queries: single words of middling frequency, two-word phrases of frequent words,
and prefixes (the first six letters of a word, or all but its last).

Run: `uv run python -m bench.search [--transcripts 10000]`. Prints a table.
"""

import argparse
import asyncio
import os
import random
import sys
import time

import httpx

from bench.readmodel_stack import bench_stack, percentile, wait_checkpoint
from tests.helpers import new_client
from tests.histories import append_all, histories, zipf_vocabulary
from voxledger.runtime.broker import connect
from voxledger.runtime.db import create_pool

SHAPE = {"segments": 30, "progress": 3, "outcomes": ("completed",), "deleted": 0.0, "jobs": (1,)}


async def load(stack, transcripts: int, vocabulary) -> int:
    nc = await connect(stack.nats_as("provision"), "bench")
    pool = await create_pool(stack.database_url, max_size=2)
    try:
        js = nc.jetstream()
        count = await append_all(js, histories(5, "bench", transcripts, vocabulary=vocabulary, **SHAPE), in_flight=1024)
        await wait_checkpoint(pool, (await js.stream_info("EVENTS")).state.last_seq, poll_s=0.2)
        return count
    finally:
        await pool.close()
        await nc.close()


def queries(words: list[str], n: int) -> list[tuple[str, str]]:
    rng = random.Random(3)
    middling = words[50:1000]
    frequent = words[:50]
    made = []
    for i in range(n):
        kind = ("word", "phrase", "prefix")[i % 3]
        if kind == "word":
            made.append((kind, rng.choice(middling)))
        elif kind == "phrase":
            made.append((kind, f'"{rng.choice(frequent)} {rng.choice(frequent)}"'))
        else:
            word = rng.choice(middling)
            made.append((kind, word[: min(6, len(word) - 1)] + "*"))  # most of a word, as someone still typing it
    return made


def measure(client: httpx.Client, made: list[tuple[str, str]]) -> dict[str, list[tuple[float, int]]]:
    timings: dict[str, list[tuple[float, int]]] = {}
    for kind, q in made:
        started = time.perf_counter()
        response = client.get("/v1/search", params={"q": q, "limit": 20})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.text
        timings.setdefault(kind, []).append((elapsed, len(response.json()["items"])))
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transcripts", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    vocabulary = zipf_vocabulary(5000)
    with bench_stack({"transcriber": 0, "postproc": 0}) as stack:
        events = asyncio.run(load(stack, args.transcripts, vocabulary))
        with new_client(stack, "bench") as client:
            measure(client, queries(vocabulary[0], 30))  # warm the caches and the connection
            timings = measure(client, queries(vocabulary[0], args.queries))
    out = sys.stdout
    out.write(
        f"\nsearch over {args.transcripts} transcripts ({events} events, 30 segments each), GET /v1/search?limit=20\n\n"
    )
    out.write(f"{'query':<10}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'avg hits':>10}\n")
    every = [t for rows in timings.values() for t in rows]
    for kind, rows in [*timings.items(), ("all", every)]:
        ms = [t for t, _ in rows]
        hits = sum(h for _, h in rows) / len(rows)
        out.write(f"{kind:<10}{len(rows):>7}{percentile(ms, 50):>9.1f}{percentile(ms, 95):>9.1f}{hits:>10.1f}\n")
    out.write(f"\n(target: p95 <= 50 ms; 1-minute load average {os.getloadavg()[0]:.1f} on 2 cores)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
