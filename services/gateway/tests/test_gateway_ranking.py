"""Hybrid ranking: meaning first, keyword matches and digests breaking near-ties, and the extractive answer."""

from voxledger.gateway.domain.ranking import NOT_FOUND, Found, extractive_answer, fuse


def found(rid: str, start: float, end: float, **kw) -> Found:
    return Found(recording_id=rid, job_id=f"job-{rid}", start=start, end=end, text=f"{rid} text", filename="f", **kw)


def test_a_keyword_hit_inside_a_passage_found_by_meaning_fuses_into_one_moment():
    passage = found("a", 0.0, 20.0, passage=0, similarity=0.5, speaker="S1")
    other = found("b", 0.0, 9.0, passage=0, similarity=0.52)
    keyword = found("a", 5.0, 8.0, segment_index=2, snippet="<mark>x</mark>")
    fused = fuse([[keyword]], [other, passage])
    assert [s.found.recording_id for s in fused] == ["a", "b"], "the words break a near-tie of meaning"
    moment = fused[0].found
    assert (moment.start, moment.segment_index, moment.similarity, moment.speaker) == (5.0, 2, 0.5, "S1")


def test_the_words_of_a_question_never_outweigh_a_clearly_better_meaning():
    right, wrong = found("a", 0, 5, passage=0, similarity=0.6), found("b", 0, 5, passage=0, similarity=0.4)
    assert [s.found.recording_id for s in fuse([[wrong], [wrong]], [right, wrong])] == ["a", "b"]


def test_the_digest_ranking_decides_between_moments_the_lists_rank_alike():
    first, second = found("a", 0, 5, passage=0, similarity=0.5), found("b", 0, 5, passage=0, similarity=0.5)
    assert [s.found.recording_id for s in fuse([], [first, second], ["b", "a"])] == ["b", "a"]
    assert [s.found.recording_id for s in fuse([], [second, first], ["a", "b"])] == ["a", "b"]


def test_the_answer_quotes_passages_about_the_question_or_says_not_found():
    near, far = found("a", 65, 70, passage=0, similarity=0.7, speaker="S2"), found("b", 0, 5, passage=0, similarity=0.1)
    answer = extractive_answer(fuse([], [near, far]))
    assert [c.found.recording_id for c in answer.citations] == ["a"]
    assert answer.text == '[1] "a text" (S2, f at 1:05)'
    assert extractive_answer(fuse([], [far])).text == NOT_FOUND
