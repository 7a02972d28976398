"""CPU seconds per stack component, read from /proc: each child of this process (a service, nats-server,
PostgreSQL) with everything below it (a transcriber's model child, PostgreSQL's backends), and the machine."""

import os
from collections import defaultdict
from pathlib import Path

PROC = Path("/proc")
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process; None once it has gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return int(fields[1]), (int(fields[11]) + int(fields[12])) * TICK_S


def _label(pid: int) -> str:
    """What a child is: `voxledger.gateway` -> gateway, `nats-server` -> nats, PostgreSQL -> postgres."""
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return "other"
    if "-m" in argv[:-1]:
        module = argv[argv.index("-m") + 1]
        return module.removeprefix("voxledger.").replace("transcriber.live", "live")
    program = Path(argv[0]).name
    return {"nats-server": "nats", "postgres": "postgres"}.get(program, program or "other")


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, every core together."""
    ticks = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) * TICK_S, sum(ticks) * TICK_S


class CpuMeter:
    """Cumulative CPU seconds per component. A process seen once keeps its last figure after it exits,
    so a total never goes back; instances are told apart by the child's pid (`transcriber` x 2)."""

    def __init__(self, root: int | None = None):
        self.root = root or os.getpid()
        self.seen: dict[int, tuple[int, float]] = {}  # pid -> (its top-level child, CPU s)
        self.labels: dict[int, str] = {0: "bench client"}

    def sample(self) -> dict[int, float]:
        """CPU seconds so far per top-level child (by pid; `labels` names it), and this process's own under 0."""
        table = {pid: s for pid in _pids() if (s := _stat(pid)) is not None}
        children = defaultdict(list)
        for pid, (ppid, _) in table.items():
            children[ppid].append(pid)
        for top in children[self.root]:
            self.labels.setdefault(top, _label(top))
            stack = [top]
            while stack:
                pid = stack.pop()
                self.seen[pid] = (top, table[pid][1])
                stack += children[pid]
        own = table.get(self.root)
        totals: dict[int, float] = defaultdict(float, {0: own[1] if own else 0.0})
        for top, cpu_s in self.seen.values():
            totals[top] += cpu_s
        return dict(totals)


def _pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]
