"""Speakers on a transcript: each segment and word labelled from the job's speaker turns, a segment that spans a
change of speaker split at it, and the names given to labels applied. Pure: rows in, views out.

The turns come from SpeakersDiarized (times and labels only); the text from SegmentsTranscribed. Reading them
together here keeps either event free of the other's content, whichever the projector saw first.
"""

from collections.abc import Mapping, Sequence

from voxledger.contracts.events import Segment, Speakers, Word
from voxledger.contracts.readmodels import JobRow
from voxledger.contracts.speakers import Turn, resolve, speaker_at
from voxledger.gateway.domain.errors import Malformed, Unacceptable
from voxledger.gateway.domain.validation import check_text

MAX_SPEAKERS = 20  # what a request may ask for; the estimate itself stops at 8 unless max_speakers says more
SPEAKERS_PATTERN = r"^(auto|off|[1-9]|1[0-9]|20)$"  # a count up to MAX_SPEAKERS
MAX_NAME_CHARS = 64


class SpeakerSegment(Segment, kw_only=True, omit_defaults=True):
    speaker: str | None = None  # after the split every word of a segment is its speaker's


def _count(value: int | str | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise Malformed("invalid_speakers", f"`{field}` must be a whole number", field)
        value = int(value)
    if isinstance(value, bool) or not 1 <= value <= MAX_SPEAKERS:
        raise Unacceptable("invalid_speakers", f"`{field}` must be from 1 to {MAX_SPEAKERS}", field)
    return value


def check_speakers(
    speakers: int | str | None, min_speakers: int | str | None, max_speakers: int | str | None
) -> tuple[Speakers, int | None, int | None]:
    """`speakers` (auto, off or a count; unset: off) and the bounds of an estimate, from JSON or form text."""
    lo, hi = _count(min_speakers, "min_speakers"), _count(max_speakers, "max_speakers")
    if speakers is None or speakers == "" or speakers == "off":
        chosen: Speakers = "off"
    elif speakers == "auto":
        chosen = "auto"
    else:
        chosen = _count(speakers, "speakers") or 1
    if lo is not None and hi is not None and lo > hi:
        raise Unacceptable("invalid_speakers", "`min_speakers` must not exceed `max_speakers`", "min_speakers")
    if (lo is not None or hi is not None) and chosen == "off":
        chosen = "auto"  # bounds alone ask for an estimate within them
    return chosen, lo, hi


def check_names(names: Mapping[str, str], merge: Mapping[str, str], labels: set[str]) -> None:
    """Renames name known labels with short single-line text; merges join a known label into another."""
    for label in [*names, *merge]:
        if label not in labels:
            raise Unacceptable("unknown_speaker", f"the job has no speaker {label!r}; it has {sorted(labels)}", label)
    for label, name in names.items():
        if not name.strip():
            raise Unacceptable("invalid_speaker_name", f"the name for {label} is empty", label)
        check_text(name, label, MAX_NAME_CHARS)
        if name in labels and name != label:
            raise Unacceptable("invalid_speaker_name", f"{name!r} is a label: merge it with `merge`", label)
    for label, target in merge.items():
        if target not in labels or target == label:
            raise Unacceptable("unknown_speaker", f"cannot merge {label} into {target!r}", label)


def _timed_words(segment: Segment) -> tuple[list[Word], bool]:
    """The segment's words; without word timestamps, its words spread over it by length (a best guess)."""
    if segment.words:
        return list(segment.words), True
    tokens = segment.text.split()
    total = sum(len(t) + 1 for t in tokens) or 1
    span, t, out = segment.end - segment.start, segment.start, []
    for token in tokens:
        d = span * (len(token) + 1) / total
        out.append(Word(t, t + d, " " + token, 1.0))
        t += d
    return out, False


def label(segments: Sequence[Segment], turns: Sequence[Turn], names: Mapping[str, str]) -> list[SpeakerSegment]:
    """Segments with speakers, split where the speaker changes between two words."""
    out: list[SpeakerSegment] = []
    for segment in segments:
        words, timed = _timed_words(segment)
        if not turns or not words:
            out.append(_piece(segment, segment.start, segment.end, segment.text, None, segment.words))
            continue
        runs: list[tuple[str | None, list[Word]]] = []
        for w in words:
            who = speaker_at(w.start, w.end, turns)
            who = resolve(who, names) if who else None
            if runs and runs[-1][0] == who:
                runs[-1][1].append(w)
            else:
                runs.append((who, [w]))
        for n, (who, run) in enumerate(runs):
            start = segment.start if n == 0 else run[0].start
            end = segment.end if n == len(runs) - 1 else run[-1].end
            text = segment.text if len(runs) == 1 else "".join(w.word for w in run)
            out.append(_piece(segment, start, end, text, who, run if timed else None))
    return out


def _piece(
    segment: Segment, start: float, end: float, text: str, who: str | None, words: list[Word] | None
) -> SpeakerSegment:
    return SpeakerSegment(
        index=segment.index,
        start=round(start, 3),
        end=round(end, 3),
        text=text,
        avg_logprob=segment.avg_logprob,
        no_speech_prob=segment.no_speech_prob,
        words=words,
        speaker=who,
    )


def job_turns(job: JobRow) -> tuple[list[Turn], dict[str, str]]:
    """A job row's speaker turns (none where it was not diarized) and the names given to their labels."""
    turns = [(float(s), float(e), str(who)) for s, e, who in job.speaker_turns or []]
    return turns, dict(job.speaker_names or {})


def named_turns(turns: Sequence[Turn], names: Mapping[str, str]) -> list[Turn]:
    return [(s, e, resolve(who, names)) for s, e, who in turns]


def to_rttm(file_id: str, turns: Sequence[Turn]) -> str:
    """NIST RTTM, one SPEAKER line per turn, for tools that score diarization."""
    lines = [
        f"SPEAKER {file_id} 1 {s:.3f} {e - s:.3f} <NA> <NA> {who.replace(' ', '_')} <NA> <NA>" for s, e, who in turns
    ]
    return "".join(line + "\n" for line in lines)
