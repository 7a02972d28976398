"""Diarization error rate: how the suite and the benchmark judge speaker turns against a fixture's RTTM.

DER = (missed speech + false alarm + speaker confusion) / reference speech, scored on a 10 ms grid, with a collar
around every reference boundary left unscored (0.25 s each side, as NIST md-eval's --collar 0.25), overlapped
speech scored, and hypothesis labels mapped to reference labels one-to-one to maximise agreement (Hungarian, from
scipy). pyannote.metrics does the same but brings pandas, sympy and pyannote.database for one number.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

STEP = 0.01
COLLAR = 0.25

Turn = tuple[float, float, str]  # start, end, speaker


@dataclass(frozen=True)
class Score:
    der: float
    missed: float
    false_alarm: float
    confusion: float
    ref_speakers: int
    hyp_speakers: int


def read_rttm(path: Path) -> list[Turn]:
    turns = []
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            start, duration = float(f[3]), float(f[4])
            turns.append((start, start + duration, f[7]))
    return turns


def _grid(turns: Iterable[Turn], labels: Sequence[str], frames: int) -> np.ndarray:
    active = np.zeros((frames, len(labels)), dtype=bool)
    for start, end, who in turns:
        active[round(start / STEP) : round(end / STEP), labels.index(who)] = True
    return active


def score(reference: Sequence[Turn], hypothesis: Sequence[Turn], collar: float = COLLAR) -> Score:
    end = max(e for _, e, _ in [*reference, *hypothesis])
    frames = int(np.ceil(end / STEP)) + 1
    ref_labels = sorted({w for *_, w in reference})
    hyp_labels = sorted({w for *_, w in hypothesis})
    ref = _grid(reference, ref_labels, frames)
    hyp = _grid(hypothesis, hyp_labels, frames)
    scored = np.ones(frames, dtype=bool)
    for start, end_, _ in reference:
        for t in (start, end_):
            scored[max(0, round((t - collar) / STEP)) : round((t + collar) / STEP)] = False
    ref, hyp = ref[scored], hyp[scored]
    agree = ref.astype(np.int64).T @ hyp.astype(np.int64)
    rows, cols = linear_sum_assignment(-agree) if agree.size else ([], [])
    matched = int(agree[rows, cols].sum()) if agree.size else 0
    n_ref, n_hyp = ref.sum(axis=1), hyp.sum(axis=1)
    total = max(int(n_ref.sum()), 1)
    missed = int(np.maximum(n_ref - n_hyp, 0).sum())
    false_alarm = int(np.maximum(n_hyp - n_ref, 0).sum())
    confusion = int(np.minimum(n_ref, n_hyp).sum()) - matched
    return Score(
        der=(missed + false_alarm + confusion) / total,
        missed=missed / total,
        false_alarm=false_alarm / total,
        confusion=confusion / total,
        ref_speakers=len(ref_labels),
        hyp_speakers=len(hyp_labels),
    )
