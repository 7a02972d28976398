"""`voxledger watch DIR`: transcribe every audio file that appears in DIR (and those already there without a
result), once each, until Ctrl-C or SIGTERM. It is `transcribe` run per file, so the same resume rules hold."""

import asyncio
import contextlib
import signal
from pathlib import Path

from rich.console import Console
from watchfiles import awatch

from voxledger.stack.client.api import Api
from voxledger.stack.client.plan import Item, Options, is_audio, is_done, output_path
from voxledger.stack.client.progress import ProgressView
from voxledger.stack.client.transcribe import Transcriber, report_failures

IDLE_TICK_MS = 500  # the watcher yields this often when nothing changes: its first yield says it is watching
Signature = tuple[int, int]  # size and mtime: a file still being written changes it


def _signature(path: Path) -> Signature | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


class Watcher:
    """Which files to start: an audio file is started once its signature held still between two looks (a
    copy in progress is not uploaded half-written), and again only if it changes after that."""

    def __init__(self, directory: Path, fmt: str):
        self.directory, self.fmt = directory, fmt
        self._waiting: dict[Path, Signature] = {}
        self._started: dict[Path, Signature] = {}

    def scan(self) -> None:
        for path in sorted(self.directory.rglob("*")):
            if not (path.is_file() and is_audio(path.relative_to(self.directory))):
                continue
            signature = _signature(path)
            if signature is None or self._started.get(path) == signature or path in self._waiting:
                continue
            if not is_done(Item(path, output_path(path, self.fmt, None))):
                self._waiting[path] = signature

    def ready(self) -> list[Item]:
        """The waiting files that did not change since the last look; the others wait another tick."""
        items = []
        for path, seen in list(self._waiting.items()):
            now = _signature(path)
            if now == seen:
                del self._waiting[path]
                self._started[path] = now
                items.append(Item(path, output_path(path, self.fmt, None)))
            elif now is None:
                del self._waiting[path]
            else:
                self._waiting[path] = now
        return items


async def watch(api: Api, directory: Path, options: Options, concurrency: int, results: Console) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    errors = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
    watcher, tasks, failures = Watcher(directory, options.format), set[asyncio.Task](), [0]
    with ProgressView() as view:
        runner = Transcriber(api, options, view, results, concurrency)

        async def one(item: Item) -> None:
            failures[0] += report_failures([await runner.run(item)], errors)

        first = True
        async for batch in awatch(directory, stop_event=stop, yield_on_timeout=True, rust_timeout=IDLE_TICK_MS):
            if first:
                results.print(f"watching {directory} (Ctrl-C stops)")
            for item in watcher.ready():
                task = asyncio.create_task(one(item))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if first or batch:
                # A rescan rather than the batch alone: nothing is missed between the start and the first event.
                watcher.scan()
            first = False
        for task in list(tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
    results.print("stopped")
    return 1 if failures[0] else 0
