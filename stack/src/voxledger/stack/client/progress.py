"""A job's progress as its SSE events tell it: a pure fold, and the view that shows it (a rich bar per file on a
terminal, a plain line per stage change otherwise)."""

from dataclasses import dataclass, replace

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

from voxledger.stack.client.api import Event

JOB_ENDS = frozenset({"TranscriptionCompleted", "TranscriptionFailed", "TranscriptionCancelled"})


@dataclass(frozen=True)
class JobProgress:
    stage: str = "queued"
    fraction: float = 0.0
    eta_s: float | None = None
    ended: str | None = None  # the end event's type
    error: tuple[str, str] | None = None  # (code, message) of a failed or cancelled job


def apply(state: JobProgress, event: Event) -> JobProgress:
    """The state after one of the job's events; events of other jobs of the recording must be filtered first."""
    data = event.data
    match event.type:
        case "TranscriptionStarted":
            return replace(state, stage="started", eta_s=None)
        case "TranscriptionProgressed":
            return replace(state, stage=data["stage"], fraction=float(data["progress"]), eta_s=data.get("eta_s"))
        case "TranscriptionAttemptFailed":
            return replace(state, stage=f"retrying ({data['error_code']})", eta_s=None)
        case "TranscriptionCompleted":
            return replace(state, stage="completed", fraction=1.0, eta_s=None, ended=event.type)
        case "TranscriptionFailed":
            error = (str(data["error_code"]), str(data.get("message") or ""))
            return replace(state, stage="failed", eta_s=None, ended=event.type, error=error)
        case "TranscriptionCancelled":
            return replace(state, stage="cancelled", ended=event.type, error=("cancelled", "the job was cancelled"))
    return state


def _eta(eta_s: float | None) -> str:
    if eta_s is None:
        return ""
    minutes, seconds = divmod(round(eta_s), 60)
    return f"eta {minutes}:{seconds:02d}"


class ProgressView:
    """One bar per file in flight with stage, percent and the worker's ETA; without a terminal, one line per
    stage change on stderr, so a log still shows how far each file got."""

    def __init__(self) -> None:
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal
        self._bars = Progress(
            TextColumn("{task.description}", markup=False),
            TextColumn("{task.fields[stage]:<14}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[eta]}"),
            console=self.console,
            disable=not self.live,
        )
        self._tasks: dict[str, TaskID] = {}
        self._stages: dict[str, str] = {}

    def __enter__(self) -> "ProgressView":
        self._bars.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._bars.stop()

    def show(self, name: str, stage: str, fraction: float = 0.0, eta_s: float | None = None) -> None:
        if name not in self._tasks:
            self._tasks[name] = self._bars.add_task(name, total=1.0, stage=stage, eta="")
        self._bars.update(self._tasks[name], completed=fraction, stage=stage, eta=_eta(eta_s))
        if not self.live and self._stages.get(name) != stage:
            self.console.print(f"{name}: {stage}", markup=False)
        self._stages[name] = stage

    def close(self, name: str) -> None:
        if (task := self._tasks.pop(name, None)) is not None:
            self._bars.remove_task(task)
        self._stages.pop(name, None)
