"""Action items: precision and recall on the labeled set and on the scripted meeting, assignees, due dates."""

import re

import pytest

from voxledger.contracts.insights import ActionItem, TranscriptLine
from voxledger.postproc.domain.action_items import extract_action_items, find_due
from voxledger.postproc.domain.fillers import strip_fillers


def lines_of(rows: list[dict]) -> list[TranscriptLine]:
    return [TranscriptLine(**row) for row in rows]


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", strip_fillers(text)[0].lower()))


def same_sentence(gold: str, predicted: str) -> bool:
    g, p = words_of(gold), words_of(predicted)
    return g == p or (bool(g) and g in p) or (bool(p) and p in g)


def same_due(gold: str | None, predicted: str | None) -> bool:
    if gold is None or predicted is None:
        return gold is predicted
    return words_of(gold) in words_of(predicted) or words_of(predicted) in words_of(gold)


def score(pairs: list[tuple[list[dict], list[ActionItem]]], match) -> dict:
    """Precision/recall (one gold item per predicted item at most) and attribute accuracy of the matches."""
    tp = fp = fn = 0
    matched: list[tuple[dict, ActionItem]] = []
    for gold, predicted in pairs:
        open_gold = list(gold)
        for item in predicted:
            hit = next((g for g in open_gold if match(g, item)), None)
            if hit is None:
                fp += 1
            else:
                tp += 1
                open_gold.remove(hit)
                matched.append((hit, item))
        fn += len(open_gold)
    n = max(1, len(matched))
    return {
        "precision": tp / max(1, tp + fp),
        "recall": tp / max(1, tp + fn),
        "assignee": sum(g["assignee"] == p.assignee for g, p in matched) / n,
        "due": sum(same_due(g["due"], p.due) for g, p in matched) / n,
        "kind": sum(g["kind"] == p.kind for g, p in matched) / n,
        "matched": len(matched),
    }


def test_precision_and_recall_on_the_labeled_set(labeled_set):
    pairs = [(t["items"], extract_action_items(lines_of(t["lines"])).items) for t in labeled_set]
    result = score(pairs, lambda g, p: same_sentence(g["sentence"], p.text))
    assert result["matched"] >= 25
    assert result["precision"] >= 0.8, result
    assert result["recall"] >= 0.8, result
    assert result["assignee"] >= 0.8, result
    assert result["due"] >= 0.8, result
    assert result["kind"] >= 0.8, result


def test_the_labeled_set_has_traps_without_items(labeled_set):
    assert len(labeled_set) >= 10
    traps = [t for t in labeled_set if not t["items"]]
    assert traps and all(extract_action_items(lines_of(t["lines"])).items == [] for t in traps)


def test_precision_and_recall_on_the_whisper_transcript_of_the_meeting(meeting_lines, meeting_labels, meeting_timing):
    sentences = meeting_timing["sentences"]
    gold = [
        # a transcript without speakers can only name "speaker" for what someone says about themselves
        {**item, "assignee": "speaker" if item["assignee"] == item["speaker"] else item["assignee"]}
        for item in meeting_labels["action_items"]
    ]

    def overlaps(g: dict, p: ActionItem) -> bool:
        s = sentences[g["sentence_index"]]
        shared = min(s["end"], p.end) - max(s["start"], p.start)
        return shared > 0.5 * min(s["end"] - s["start"], p.end - p.start)

    items = extract_action_items(meeting_lines).items
    result = score([(gold, items)], overlaps)
    assert result["precision"] >= 0.8, result
    assert result["recall"] >= 0.8, result
    assert result["assignee"] >= 0.8, result
    assert result["due"] >= 0.8, result


def test_first_person_items_name_the_speaker_when_segments_carry_one(scripted_lines, meeting_labels):
    items = extract_action_items(scripted_lines).items
    by_text = {item.text: item for item in items}
    for gold in meeting_labels["action_items"]:
        item = by_text[gold["sentence"]]
        assert (item.assignee, item.due, item.kind) == (gold["assignee"], gold["due"], gold["kind"])
    assert len(items) == len(meeting_labels["action_items"])


def test_an_item_carries_its_sentence_time_inside_a_segment():
    lines = [TranscriptLine(index=0, start=10.0, end=20.0, text="The demo went well. I'll send the slides tomorrow.")]
    (item,) = extract_action_items(lines).items
    assert item.text == "I'll send the slides tomorrow."
    assert 10.0 < item.start < 15.0 < item.end <= 20.0
    assert (item.kind, item.assignee, item.due) == ("commitment", "speaker", "tomorrow")


@pytest.mark.parametrize(
    "text,due",
    [
        ("Send it by Friday.", "by Friday"),
        ("Please finish this by the end of the week.", "by the end of the week"),
        ("I'll do it by end of day.", "by end of day"),
        ("We ship next week.", "next week"),
        ("Call them before the meeting.", "before the meeting"),
        ("Review it on Monday morning.", "on Monday morning"),
        ("Send it tomorrow afternoon.", "tomorrow afternoon"),
        ("Can you do it in two days?", "in two days"),
        ("Fix it asap.", "asap"),
        ("We may be late.", None),
        ("It was this time last year.", None),
    ],
)
def test_due_phrases(text, due):
    assert find_due(text) == due
