"""Conversation analytics from the transcript's text and segment times.

- speech time is the union of the segments' spans (overlapping speakers count once); silence is the rest
  of the recording. The figures are as good as the segment times: Whisper without word timestamps or VAD
  stretches segments over pauses, so speech time comes out high and words per minute low.
- words are counted in the raw text, fillers included (they were spoken); wpm is words per minute of
  speech time, overall and per `window_s` window (each word placed at its interpolated time).
- fillers come from the same detector that refinement removes them with.
- talk time per speaker is the union of that speaker's diarized turns when the job was diarized, else of
  its segments.
- the longest monologue is the longest run of consecutive segments by one speaker; without speakers, the
  longest stretch of speech whose gaps are all under `monologue_gap_s`.
- questions are sentences that end in "?", or, without end punctuation, start with a question word.
"""

from collections.abc import Sequence

from voxledger.contracts.insights import Analytics, PaceWindow, SpeakerStats, TranscriptLine
from voxledger.contracts.speakers import Turn

from .fillers import FILLER_LABELS, count_fillers
from .text import count_words, is_question, ordered, speech_spans, split_sentences, union_of_spans

WINDOW_S = 60.0
MONOLOGUE_GAP_S = 2.0


def _per_minute(count: float, seconds: float) -> float:
    return round(count * 60.0 / seconds, 2) if seconds > 0 else 0.0


def _pace(
    lines: list[TranscriptLine], spans: list[tuple[float, float]], duration: float, window_s: float
) -> list[PaceWindow]:
    if duration <= 0:
        return []
    n_windows = max(1, -int(-duration // window_s))  # ceil
    words = [0] * n_windows
    for line in lines:
        n = count_words(line.text)
        span = max(0.0, line.end - line.start)
        for i in range(n):
            t = line.start + span * (i + 0.5) / n
            words[min(n_windows - 1, max(0, int(t // window_s)))] += 1
    # speech per window, in one pass over the sorted spans
    speech = [0.0] * n_windows
    for start, end in spans:
        first, last = int(start // window_s), min(n_windows - 1, int(end // window_s))
        for w in range(first, last + 1):
            speech[w] += max(0.0, min(end, (w + 1) * window_s) - max(start, w * window_s))
    return [
        PaceWindow(
            start=round(w * window_s, 3),
            end=round(min(duration, (w + 1) * window_s), 3),
            words=words[w],
            wpm=_per_minute(words[w], speech[w]),
        )
        for w in range(n_windows)
    ]


def _longest_of(lines: list[TranscriptLine], speaker: str) -> float:
    """The longest run of consecutive lines by `speaker`."""
    best = 0.0
    run_start: float | None = None
    run_end = 0.0
    for line in lines:
        if line.speaker != speaker:
            run_start = None
            continue
        if run_start is None:
            run_start, run_end = line.start, line.end
        run_end = max(run_end, line.end)
        best = max(best, run_end - run_start)
    return round(best, 3)


def _longest_monologue(lines: list[TranscriptLine], gap_s: float) -> tuple[float, float]:
    """(length, start) of the longest run; runs break at a speaker change or, without speakers, a gap."""
    with_speakers = any(ln.speaker for ln in lines)
    best = (0.0, 0.0)
    run_start = run_end = 0.0
    previous: TranscriptLine | None = None
    for line in lines:
        if previous is None or (
            (line.speaker != previous.speaker) if with_speakers else (line.start - run_end >= gap_s)
        ):
            run_start, run_end = line.start, line.end
        else:
            run_end = max(run_end, line.end)
        if run_end - run_start > best[0]:
            best = (run_end - run_start, run_start)
        previous = line
    return round(best[0], 3), round(best[1], 3)


def _speakers(lines: list[TranscriptLine], speaker_turns: Sequence[Turn]) -> list[SpeakerStats]:
    """Per speaker: talk time (and its share), turns, words and their pace, the longest monologue,
    interruptions (a turn begun before the previous speaker's last line ended) and questions asked.

    Talk time comes from the diarized turns where there are any: they are when each voice was heard, while
    segments are units of text whose times (word times, in batched decoding) leave out the pauses between
    a speaker's sentences."""
    own: dict[str, list[TranscriptLine]] = {}
    turns: dict[str, int] = {}
    interruptions: dict[str, int] = {}
    previous: TranscriptLine | None = None
    for line in lines:
        if line.speaker is None:
            previous = None
            continue
        own.setdefault(line.speaker, []).append(line)
        if previous is None or line.speaker != previous.speaker:
            turns[line.speaker] = turns.get(line.speaker, 0) + 1
            if previous is not None and line.start < previous.end:
                interruptions[line.speaker] = interruptions.get(line.speaker, 0) + 1
        previous = line
    questions: dict[str | None, int] = {}
    for sentence in split_sentences(lines):
        if is_question(sentence.text):
            questions[sentence.speaker] = questions.get(sentence.speaker, 0) + 1
    talk = {who: round(sum(e - s for s, e in speech_spans(mine)), 3) for who, mine in own.items()}
    for who in own:
        heard = [(start, end) for start, end, label in speaker_turns if label == who]
        if heard:
            talk[who] = round(sum(e - s for s, e in union_of_spans(heard)), 3)
    total = sum(talk.values())
    stats = []
    for who, mine in own.items():
        words = sum(count_words(ln.text) for ln in mine)
        stats.append(
            SpeakerStats(
                speaker=who,
                talk_time_s=talk[who],
                turns=turns[who],
                words=words,
                share=round(talk[who] / total, 4) if total > 0 else 0.0,
                wpm=_per_minute(words, talk[who]),
                longest_monologue_s=_longest_of(lines, who),
                interruptions=interruptions.get(who, 0),
                questions=questions.get(who, 0),
            )
        )
    return sorted(stats, key=lambda s: (-s.talk_time_s, s.speaker))


def analyze(
    lines: list[TranscriptLine],
    duration_s: float,
    *,
    turns: Sequence[Turn] = (),
    window_s: float = WINDOW_S,
    monologue_gap_s: float = MONOLOGUE_GAP_S,
) -> Analytics:
    lines = ordered(lines)
    duration = max(0.0, float(duration_s), *(float(ln.end) for ln in lines))
    spans = speech_spans(lines, limit=duration)
    duration = round(duration, 3)
    speech = round(sum(end - start for start, end in spans), 3)
    word_count = sum(count_words(ln.text) for ln in lines)
    fillers = count_fillers(ln.text for ln in lines)
    filler_count = sum(fillers.values())
    monologue_s, monologue_start = _longest_monologue(lines, monologue_gap_s)
    return Analytics(
        duration_s=duration,
        speech_s=speech,
        silence_s=round(max(0.0, duration - speech), 3),
        word_count=word_count,
        wpm=_per_minute(word_count, speech),
        pace=_pace(lines, spans, duration, window_s),
        fillers={label: fillers[label] for label in FILLER_LABELS if fillers[label]},
        filler_count=filler_count,
        fillers_per_min=_per_minute(filler_count, speech),
        longest_monologue_s=monologue_s,
        longest_monologue_start=monologue_start,
        question_count=sum(1 for s in split_sentences(lines) if is_question(s.text)),
        speakers=_speakers(lines, turns),
    )
