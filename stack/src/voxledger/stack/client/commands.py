"""The client subcommands' parsers and entry points: transcribe, watch, jobs, search, ask, export."""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, get_args

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from voxledger.contracts.statuses import JobStatus
from voxledger.stack.client.api import Api, ApiProblem, resolve_connection
from voxledger.stack.client.plan import FORMATS, Options, plan
from voxledger.stack.client.progress import ProgressView
from voxledger.stack.client.transcribe import Outcome, Transcriber, report_failures


def _console(stderr: bool = False) -> Console:
    # Piped output is for reading and grepping: never wrapped at 80 columns, never truncated.
    console = Console(stderr=stderr, highlight=False, soft_wrap=True, markup=False)
    if not console.is_terminal:
        console.width = 1000
    return console


def _run(args: argparse.Namespace, command: Callable[[Api], Awaitable[int]]) -> int:
    """Connects as --url/--key (or their defaults) say and runs `command`; a refusal is one line and status 1."""
    try:
        connection = resolve_connection(args.url, args.key)

        async def main() -> int:
            async with Api(connection) as api:
                return await command(api)

        return asyncio.run(main())
    except ApiProblem as problem:
        _console(stderr=True).print(f"voxledger: {problem.code}: {problem.message}")
        return 2 if problem.code == "no_server" else 1
    except KeyboardInterrupt:
        return 130


def _options(args: argparse.Namespace) -> Options:
    return Options(args.format, args.model, args.language, args.prompt, args.hotwords, args.temperature, args.priority)


def cmd_transcribe(args: argparse.Namespace) -> int:
    results, errors = _console(), _console(stderr=True)
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        errors.print(f"voxledger: no such file or directory: {', '.join(missing)}")
        return 2
    options = _options(args)
    work = plan([Path(p) for p in args.paths], args.format, Path(args.out) if args.out else None)
    for conflict in work.conflicts:
        errors.print(f"voxledger: {conflict.source} would overwrite {conflict.output}; use --out or rename it")
    if work.conflicts:
        return 2

    async def transcribe(api: Api) -> int:
        with ProgressView() as view:
            runner = Transcriber(api, options, view, results, args.concurrency)
            outcomes: list[Outcome] = await asyncio.gather(*(runner.run(item, args.force) for item in work.items))
        return report_failures(outcomes, errors)

    return _run(args, transcribe)


def _table(*columns: str) -> Table:
    table = Table(*columns, box=None, header_style="bold", pad_edge=False)
    for column in table.columns:
        column.no_wrap = True
    return table


def _short_time(value: str | None) -> str:
    return value[:19].replace("T", " ") if value else "-"


def cmd_jobs(args: argparse.Namespace) -> int:
    async def jobs(api: Api) -> int:
        page = await api.get("/v1/jobs", status=args.status, limit=args.limit)
        table = _table("JOB", "RECORDING", "STATUS", "STAGE", "PROGRESS", "MODEL", "CREATED", "ERROR")
        for job in page["items"]:
            error = f"{job['error']['code']}: {job['error']['message']}" if job.get("error") else ""
            progress = f"{job['progress'] * 100:.0f}%"
            created = _short_time(job["created_at"])
            row = (job["job_id"], job["recording_id"], job["status"], job["stage"], progress, job.get("model") or "-")
            table.add_row(*(escape(str(cell)) for cell in (*row, created, error)))
        _console().print(table if page["items"] else "no jobs", markup=True)  # cells are escaped
        return 0

    return _run(args, jobs)


def _snippet(hit: dict[str, Any]) -> str:
    """The gateway marks matches with <mark></mark>; on a terminal they show reversed."""
    return escape(hit["snippet"]).replace("<mark>", "[reverse]").replace("</mark>", "[/reverse]")


def cmd_search(args: argparse.Namespace) -> int:
    async def search(api: Api) -> int:
        page = await api.get("/v1/search", q=args.query, limit=args.limit, mode=args.mode)
        table = _table("RECORDING", "FILE", "AT", "SNIPPET")
        table.columns[-1].no_wrap = False
        for hit in page["items"]:
            table.add_row(escape(hit["recording_id"]), escape(hit["filename"]), _at(hit["start"]), _snippet(hit))
        _console().print(table if page["items"] else "no matches", markup=True)
        return 0

    return _run(args, search)


def _at(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def cmd_ask(args: argparse.Namespace) -> int:
    async def ask(api: Api) -> int:
        body = {"question": args.question, "recording_ids": args.recording or None, "speaker": args.speaker}
        answer = await api.post("/v1/ask", body)
        console = _console()
        console.print(answer["answer"])
        for i, cited in enumerate(answer["citations"], start=1):
            who = cited["speaker"] or "-"
            console.print(f"[{i}] {cited['recording_id']} {cited['filename']} at {_at(cited['start'])} ({who})")
        return 0 if answer["found"] else 3

    return _run(args, ask)


def cmd_export(args: argparse.Namespace) -> int:
    async def export(api: Api) -> int:
        body = await api.transcript(args.recording_id, args.format, args.job_id, None)
        if args.out:
            Path(args.out).write_bytes(body)
        else:
            sys.stdout.buffer.write(body)
            sys.stdout.buffer.flush()
        return 0

    return _run(args, export)


def cmd_watch(args: argparse.Namespace) -> int:
    from voxledger.stack.client.watch import watch

    directory = Path(args.directory)
    if not directory.is_dir():
        _console(stderr=True).print(f"voxledger: not a directory: {directory}")
        return 2
    options = _options(args)
    return _run(args, lambda api: watch(api, directory, options, args.concurrency, _console()))


def _connection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the voxledger URL (VOXLEDGER_URL; default: the stack running here)")
    parser.add_argument("--key", help="the API key (VOXLEDGER_API_KEY; default: the local dev key)")


def _job_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="srt", help="the transcript format written (srt)")
    parser.add_argument("--model", help="the model to transcribe with (default: the deployment's)")
    parser.add_argument("--language", help="the spoken language, e.g. en (default: detected)")
    parser.add_argument("--prompt", help="text the model is primed with: names, spelling, style")
    parser.add_argument("--hotwords", help="words to favour, e.g. product names")
    parser.add_argument("--temperature", type=float, help="sampling temperature from 0 to 1")
    parser.add_argument(
        "--priority", choices=("high", "normal", "low"), help="order among your own queued jobs (normal)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="files in flight at once (4)")


def register(sub: Any) -> None:
    """Adds the client subcommands to the `voxledger` parser's subparsers."""
    transcribe = sub.add_parser("transcribe", help="transcribe audio files or folders, with progress bars")
    transcribe.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    transcribe.add_argument("--out", help="write results under this folder (default: next to each input)")
    transcribe.add_argument("--force", action="store_true", help="fetch results again even where they are newer")
    _job_args(transcribe)
    _connection_args(transcribe)
    transcribe.set_defaults(func=cmd_transcribe)
    watch = sub.add_parser("watch", help="transcribe audio files as they appear in a folder, until Ctrl-C")
    watch.add_argument("directory", metavar="DIR")
    _job_args(watch)
    _connection_args(watch)
    watch.set_defaults(func=cmd_watch)
    jobs = sub.add_parser("jobs", help="list transcription jobs, newest first")
    jobs.add_argument("--status", choices=get_args(JobStatus))
    jobs.add_argument("--limit", type=int, default=50)
    _connection_args(jobs)
    jobs.set_defaults(func=cmd_jobs)
    search = sub.add_parser("search", help="search across transcripts, by words and by meaning")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--mode", choices=("keyword", "semantic", "hybrid"), help="how to match (hybrid)")
    _connection_args(search)
    search.set_defaults(func=cmd_search)
    ask = sub.add_parser("ask", help="ask the recordings a question: the passages that answer, quoted and cited")
    ask.add_argument("question")
    ask.add_argument("--recording", action="append", help="only this recording (repeatable)")
    ask.add_argument("--speaker", help="only what this speaker said (a label or a name)")
    _connection_args(ask)
    ask.set_defaults(func=cmd_ask)
    export = sub.add_parser("export", help="print or save a recording's transcript")
    export.add_argument("recording_id")
    export.add_argument("--format", choices=FORMATS, default="srt")
    export.add_argument("--job-id", help="a job's transcript (default: the latest completed)")
    export.add_argument("--out", help="write to this file instead of stdout")
    _connection_args(export)
    export.set_defaults(func=cmd_export)
