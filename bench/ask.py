"""Asking, measured on the evaluation set tests/fixtures/ask/eval.json: ten espeak-ng meetings, transcribed
with tiny.en and embedded by the stack as a user's would be, and 35 questions (30 with the sentence that
answers them, many sharing no keyword with it; 5 that no recording answers).

For keyword, semantic and hybrid search side by side: recall@1 and recall@5 (a hit in the right recording
whose span is within 10 s of the answer's), MRR, the share of unanswerable questions answered with nothing,
and latency p50/p95 through the HTTP API; then /v1/ask the same way (its "not found" share too). Also what
embedding a transcript costs next to transcribing it (the stack's own log lines and events).

With `--passages N`, the tenant then gets N more passages (synthetic recordings of 100 random unit vectors
each, appended to the log and projected) and the same questions are asked again: latency at that scale.

Run: `uv run just bench-ask [--passages 100000]` (a stack of its own; a few minutes). Prints tables.
"""

import argparse
import asyncio
import json
import random
import struct
import time
from pathlib import Path

import httpx
import msgspec

from bench.readmodel_stack import bench_stack, percentile, wait_checkpoint
from tests.helpers import new_client, wait_job, wait_logged, wait_visible
from tests.histories import append_all, histories
from voxledger.contracts import events as ev
from voxledger.contracts import streams
from voxledger.runtime.broker import connect
from voxledger.runtime.db import create_pool

ASK = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ask"
NEAR_S = 10.0
MODES = ("keyword", "semantic", "hybrid")


def upload_all(client: httpx.Client, names: list[str]) -> dict[str, dict]:
    made = {}
    for name in names:
        with (ASK / f"{name}.ogg").open("rb") as f:
            response = client.post("/v1/recordings", files={"file": (f"{name}.ogg", f)}, data={"language": "en"})
        response.raise_for_status()
        made[name] = response.json()
        wait_visible(client, f"/v1/recordings/{made[name]['recording_id']}")
    return made


def right(hit: dict, question: dict, recordings: dict[str, dict]) -> bool:
    if question["recording"] is None or hit["recording_id"] != recordings[question["recording"]]["recording_id"]:
        return False
    return hit["start"] - NEAR_S <= question["end"] and hit["end"] + NEAR_S >= question["start"]


def score(ranked: list[list[dict]], questions: list[dict], recordings: dict[str, dict]) -> dict[str, float]:
    answerable = [(hits, q) for hits, q in zip(ranked, questions, strict=True) if q["recording"]]
    firsts = [next((i for i, h in enumerate(hits, 1) if right(h, q, recordings)), None) for hits, q in answerable]
    unanswerable = [hits for hits, q in zip(ranked, questions, strict=True) if not q["recording"]]
    return {
        "recall@1": sum(f == 1 for f in firsts) / len(firsts),
        "recall@5": sum(f is not None and f <= 5 for f in firsts) / len(firsts),
        "MRR": sum(1 / f for f in firsts if f) / len(firsts),
        "not found": sum(not hits for hits in unanswerable) / len(unanswerable),
    }


def timed(call) -> tuple[list[dict], float]:
    started = time.perf_counter()
    hits = call()
    return hits, (time.perf_counter() - started) * 1000


def run_modes(client: httpx.Client, questions: list[dict]) -> dict[str, tuple[list[list[dict]], list[float]]]:
    out = {}

    def search(q: dict, mode: str) -> list[dict]:
        return client.get("/v1/search", params={"q": q["question"], "mode": mode}).json()["items"]

    def ask(q: dict) -> list[dict]:
        return client.post("/v1/ask", json={"question": q["question"]}).json()["citations"]

    for mode in MODES:
        results = [timed(lambda q=q, mode=mode: search(q, mode)) for q in questions]
        out[mode] = ([r for r, _ in results], [ms for _, ms in results])
    results = [timed(lambda q=q: ask(q)) for q in questions]
    out["ask"] = ([r for r, _ in results], [ms for _, ms in results])
    return out


async def logged(stack, made: dict[str, dict], event_type: str) -> list[list]:
    """Each recording's log once it holds `event_type`."""
    nc = await connect(stack.nats_as("provision"), "bench")
    try:
        return [await wait_logged(nc, stack, a["recording_id"], event_type, timeout_s=600) for a in made.values()]
    finally:
        await nc.close()


def embedding_cost(stack, made: dict[str, dict]) -> tuple[float, float]:
    """Seconds spent embedding and transcribing all the recordings (postproc's log lines, the jobs' events)."""
    embedded = [json.loads(line) for line in (stack.log_dir / "postproc-0.log").read_text().splitlines() if line]
    embedding_s = sum(e["took_s"] for e in embedded if e.get("event") == "passages.embedded")
    transcribing_s = 0.0
    for history in asyncio.run(logged(stack, made, "TranscriptionCompleted")):
        transcribing_s += next(m.body.processing_s for m in history if m.envelope.type == "TranscriptionCompleted")
    return embedding_s, transcribing_s


def random_passages(rng: random.Random, count: int, end: float) -> list[ev.Passage]:
    def unit() -> bytes:
        v = [rng.gauss(0, 1) for _ in range(384)]
        norm = sum(x * x for x in v) ** 0.5
        return struct.pack("<384f", *(x / norm for x in v))

    return [
        ev.Passage(index=i, kind="turn", start=i * end / count, end=(i + 1) * end / count, text=f"p{i}", vector=unit())
        for i in range(count)
    ]


async def add_passages(stack, tenant: str, passages: int) -> None:
    """Synthetic completed recordings of the tenant, each with 100 random passages, projected."""
    rng = random.Random(5)
    shape = {"segments": 2, "progress": 1, "outcomes": ("completed",), "deleted": 0.0, "jobs": (1,)}
    made = list(histories(9, tenant, passages // 100, **shape))
    for h in made:
        for i, m in enumerate(h.messages):
            if isinstance(m.body, ev.PassagesEmbedded):
                body = msgspec.structs.replace(m.body, passages=random_passages(rng, 100, 60.0))
                h.messages[i] = msgspec.structs.replace(m, body=body)
    nc = await connect(stack.nats_as("provision"), "bench")
    pool = await create_pool(stack.database_url, max_size=2)
    try:
        js = nc.jetstream()
        await append_all(js, made, in_flight=64)
        for spec in (streams.INSIGHTS_ON_COMPLETION, streams.EMBEDDINGS_ON_COMPLETION):  # their runs settled
            while (info := await js.consumer_info(spec.stream, spec.durable)).num_pending or info.num_ack_pending:
                await asyncio.sleep(1)
        await wait_checkpoint(pool, (await js.stream_info("EVENTS")).state.last_seq, poll_s=0.5)
    finally:
        await pool.close()
        await nc.close()


def table(measured: dict, questions: list[dict], made: dict[str, dict]) -> None:
    print(f"| | {' | '.join(measured)} |\n|---|{'---|' * len(measured)}")
    scores = {name: score(ranked, questions, made) for name, (ranked, _) in measured.items()}
    for metric in ("recall@1", "recall@5", "MRR", "not found"):
        print(f"| {metric} | " + " | ".join(f"{scores[n][metric]:.2f}" for n in measured) + " |")
    for p in (50, 95):
        print(f"| latency p{p} (ms) | " + " | ".join(f"{percentile(ms, p):.0f}" for _, ms in measured.values()) + " |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=0, help="then add this many synthetic passages and ask again")
    args = parser.parse_args()
    evaluation = json.loads((ASK / "eval.json").read_text())
    questions = evaluation["questions"]
    with bench_stack({}) as stack, new_client(stack, "bench-ask") as client:
        made = upload_all(client, list(evaluation["recordings"]))
        for accepted in made.values():
            assert wait_job(client, accepted["job_id"], timeout_s=600)["status"] == "completed"
        asyncio.run(logged(stack, made, "PassagesEmbedded"))
        time.sleep(1)  # the last passages projected (milliseconds behind the log)
        measured = run_modes(client, questions)
        embedding_s, transcribing_s = embedding_cost(stack, made)
        if args.passages:
            started = time.perf_counter()
            asyncio.run(add_passages(stack, "bench-ask", args.passages))
            loaded_s = time.perf_counter() - started
            scaled = run_modes(client, questions)
    answerable = sum(1 for q in questions if q["recording"])
    print(f"{len(questions)} questions ({answerable} answerable) over {len(made)} recordings; a hit is right")
    print(f"within {NEAR_S:.0f} s of the answer's span in its recording\n")
    table(measured, questions, made)
    share = embedding_s / transcribing_s if transcribing_s else float("nan")
    print(f"\nembedding {embedding_s:.2f} s vs transcribing {transcribing_s:.2f} s with tiny.en: {share:.1%}")
    if args.passages:
        print(
            f"\nwith {args.passages} more passages ({args.passages // 100} recordings; loaded in {loaded_s:.0f} s):\n"
        )
        table(scaled, questions, made)


if __name__ == "__main__":
    main()
