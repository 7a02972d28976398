"""Batched chunks cut into sentence segments at word times."""

from voxledger.contracts.events import Word
from voxledger.transcriber.domain.sentences import sentence_pieces


def words(*spec: tuple[float, float, str]) -> list[Word]:
    return [Word(start, end, text, 0.9) for start, end, text in spec]


def test_a_chunk_is_cut_after_each_sentence_with_the_times_of_its_words():
    chunk = words(
        (0.0, 0.4, " Good"), (0.4, 1.1, " morning."), (1.2, 1.5, " Shall"), (1.5, 1.8, " we"), (1.8, 2.4, " start?")
    )
    pieces = list(sentence_pieces(chunk))
    assert [p.text for p in pieces] == ["Good morning.", "Shall we start?"]
    assert [(p.start, p.end) for p in pieces] == [(0.0, 1.1), (1.2, 2.4)]
    assert [len(p.words) for p in pieces] == [2, 3]


def test_no_word_is_lost_or_repeated():
    chunk = words(*((i * 0.3, i * 0.3 + 0.25, f" w{i}{'.' if i % 7 == 6 else ''}") for i in range(40)))
    pieces = list(sentence_pieces(chunk))
    assert [w for p in pieces for w in p.words] == chunk


def test_a_long_sentence_is_cut_at_its_widest_pause():
    chunk = [Word(i * 0.5, i * 0.5 + 0.4, f" w{i}", 0.9) for i in range(20)]
    chunk += [Word(10.5 + i * 0.5, 10.9 + i * 0.5, f" v{i}", 0.9) for i in range(10)]  # after a 0.6 s pause
    pieces = list(sentence_pieces(chunk, max_s=12.0))
    assert pieces[0].words[-1].word == " w19" and pieces[1].words[0].word == " v0"
    assert all(p.end - p.start <= 12.5 for p in pieces)


def test_a_short_exclamation_stays_with_what_follows():
    chunk = words((0.0, 0.3, " Oh!"), (0.4, 0.8, " That"), (0.8, 1.4, " works."))
    assert [p.text for p in sentence_pieces(chunk)] == ["Oh! That works."]
