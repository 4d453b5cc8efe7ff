"""Every Swedish text of the client's page reads easily: LIX under 40 (LIX 40 is the level of a daily paper's news;
under 30 is very easy). LIX = words ÷ sentences + long words (more than 6 letters) × 100 ÷ words.

Every sentence of the page (six words or more) is held to it on its own. A heading or a button of two to five
words cannot be: one long word in two gives 52 (so «Din handläggare», or the seed's own question «Hur upplevde
du väntetiden?»); those are held to it as part of each page the client can see, rendered whole, in
``tests/integration/feedback/test_client_page.py``, with ``lix`` from here."""

import re

import pytest

from feedback.client import texts

LIMIT = 40


def lix(text: str) -> float:
    words = re.findall(r"[^\W\d_]+", text)
    sentences = max(1, len(re.findall(r"[.!?:]+(?:\s|$)", text.strip())) or 1)
    long_words = [w for w in words if len(w) > 6]
    return len(words) / sentences + 100 * len(long_words) / len(words)


def test_lix_counts_words_sentences_and_long_words():
    # 8 words, 2 sentences, 2 long words (handläggare, berättar): 4 + 25 = 29
    assert lix("Du ser din handläggare. Hen berättar mer sedan.") == pytest.approx(8 / 2 + 100 * 2 / 8)


SENTENCES = [t for t in texts.swedish_texts() if len(re.findall(r"[^\W\d_]+", t)) >= 6]


def test_most_texts_are_sentences_held_to_the_limit_on_their_own():
    assert len(SENTENCES) >= 25


@pytest.mark.parametrize("text", SENTENCES)
def test_every_swedish_sentence_of_the_client_page_has_a_lix_under_40(text):
    assert lix(text) < LIMIT, f"LIX {lix(text):.0f}: {text!r}"


def test_the_page_as_a_whole_reads_easily():
    whole = " ".join(t if t.rstrip().endswith((".", "!", "?")) else t + "." for t in texts.swedish_texts())
    assert lix(whole) < LIMIT, f"LIX {lix(whole):.0f}"
