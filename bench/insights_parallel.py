"""Insight parallelism: total post-processing time against the slowest single kind, on the real stack.

The LLM test server adds a fixed latency to every call, so the three LLM kinds
take about that long each. Run in parallel, the whole run takes about as long
as the slowest kind; run one after another, it would take about 3-4 times as long.

Run: `uv run python -m bench.insights_parallel [--latency 1.0] [--runs 3]`. Prints a table.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.log import logged_events
from tests.helpers import new_client, upload, wait_job
from tests.llm_server import FakeLlm
from voxledger.stack.supervisor import Stack


def one_run(stack, client) -> tuple[float, float, dict[str, float]]:
    accepted = upload(client, "short_meeting.ogg").json()
    assert wait_job(client, accepted["job_id"])["status"] == "completed"
    while True:
        history = logged_events(stack, accepted["recording_id"])
        if any(m.envelope.type == "InsightsCompleted" for m in history):
            break
        time.sleep(0.1)
    at = {m.envelope.type: m.envelope.occurred_at for m in history if m.envelope.type.startswith("Insights")}
    per_kind = {m.body.kind: m.body.processing_s for m in history if m.envelope.type == "InsightReady"}
    total = (at["InsightsCompleted"] - at["InsightsRequested"]).total_seconds()
    return total, max(per_kind.values()), per_kind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds the LLM server takes per call")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="voxledger-bench-") as tmp, FakeLlm(latency_s=args.latency) as llm:
        env = {"VOXLEDGER_LLM_URL": llm.url, "VOXLEDGER_LLM_MODEL": "bench"}
        with Stack(Path(tmp), log_dir=Path(tmp) / "logs", env=env) as stack, new_client(stack, "bench") as client:
            rows = [one_run(stack, client) for _ in range(args.runs)]
    totals, slowest = [r[0] for r in rows], [r[1] for r in rows]
    sequential = [sum(r[2].values()) for r in rows]
    out = sys.stdout
    out.write(f"\ninsights in parallel, LLM latency {args.latency:.1f} s per call, {args.runs} runs (median)\n\n")
    out.write(f"{'whole run s':>12}{'slowest kind s':>16}{'sum of kinds s':>16}{'run/slowest':>13}\n")
    out.write(
        f"{statistics.median(totals):>12.2f}{statistics.median(slowest):>16.2f}"
        f"{statistics.median(sequential):>16.2f}{statistics.median(t / s for t, s in zip(totals, slowest, strict=True)):>13.3f}\n"
    )
    out.write("\n(sum of kinds = what running them one after another would cost)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
