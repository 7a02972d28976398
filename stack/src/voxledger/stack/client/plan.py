"""What `voxledger transcribe` has to do, decided without IO beyond reading the file system: which files, where
each result goes, whether a file is already done, and the Idempotency-Key that makes a rerun resume."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The containers the gateway's sniffer recognises, by their usual extensions.
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".mp4", ".aac", ".webm", ".mka", ".wma"}
)
FORMATS = ("srt", "vtt", "txt", "json")


@dataclass(frozen=True)
class Options:
    """The job options sent with every upload; part of each file's Idempotency-Key."""

    format: str = "srt"
    model: str | None = None
    language: str | None = None
    prompt: str | None = None  # faster-whisper's initial prompt
    hotwords: str | None = None
    temperature: float | None = None
    priority: str | None = None  # high, normal or low: the order among the tenant's own queued jobs

    def form(self) -> dict[str, str]:
        """The upload's form fields: only the options given, so the server's defaults apply to the others."""
        fields = {"model": self.model, "language": self.language, "prompt": self.prompt, "hotwords": self.hotwords}
        fields["priority"] = self.priority
        if self.temperature is not None:
            fields["temperature"] = repr(self.temperature)
        return {name: value for name, value in fields.items() if value}


@dataclass(frozen=True)
class Item:
    source: Path
    output: Path


@dataclass(frozen=True)
class Plan:
    items: list[Item]
    conflicts: list[Item]  # a second input whose output path another input already has


def is_audio(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS and not path.name.startswith(".")


def _walk(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and is_audio(p.relative_to(root)))


def output_path(source: Path, fmt: str, out_dir: Path | None, root: Path | None = None) -> Path:
    """`call.wav` -> `call.srt` next to it; under `out_dir` it keeps its place relative to the walked `root`."""
    name = source.with_suffix(f".{fmt}").name
    if out_dir is None:
        return source.with_name(name)
    relative = source.parent.relative_to(root) if root is not None else Path()
    return out_dir / relative / name


def plan(paths: Iterable[Path], fmt: str, out_dir: Path | None) -> Plan:
    """Every audio file named or found under a named directory, once, with its output path."""
    items: list[Item] = []
    conflicts: list[Item] = []
    seen_sources: set[Path] = set()
    seen_outputs: set[Path] = set()
    for path in paths:
        found = [(p, path) for p in _walk(path)] if path.is_dir() else [(path, None)]
        for source, root in found:
            if source.resolve() in seen_sources:
                continue
            seen_sources.add(source.resolve())
            item = Item(source, output_path(source, fmt, out_dir, root))
            (conflicts if item.output.resolve() in seen_outputs else items).append(item)
            seen_outputs.add(item.output.resolve())
    return Plan(items, conflicts)


def is_done(item: Item) -> bool:
    """The output exists and is newer than its input: nothing to do (`--force` does it again)."""
    try:
        return item.output.stat().st_mtime >= item.source.stat().st_mtime
    except FileNotFoundError:
        return False


def file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def idempotency_key(digest: str, filename: str, options: Options) -> str:
    """The same bytes under the same name with the same options get the same recording and job back.

    The gateway's fingerprint includes the filename, so it is part of the key: a copy under another name
    is another recording rather than a 409."""
    parts = json.dumps([digest, filename, sorted(options.form().items())]).encode()
    return "voxledger-cli:" + hashlib.sha256(parts).hexdigest()
