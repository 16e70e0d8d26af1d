"""The PostgreSQL engine's analysis is the Whoosh engine's: same terms, in the same order.

``whoosh_engine.analyzer()`` is the reference; the PostgreSQL engine redoes it in
pure Python (without Whoosh's index code: it borrows only Whoosh's stemmer module),
and both engines only agree on what a query matches if every text analyses to the
same terms.
"""

from __future__ import annotations

import itertools
import re
import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provarchive.catalog import postgres_sql as pgsql
from provarchive.search import analysis
from provarchive.search.whoosh_engine import analyzer

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
ANALYZER = analyzer()


def whoosh_terms(text: str, *, tokenize: bool = True) -> list[str]:
    return [t.text for t in ANALYZER(text, tokenize=tokenize, mode="query")]


# Text that exercises every step: accents (composed and not), ligatures and full-width
# forms (NFKC), CJK of each range, apostrophes, dots inside tokens, '*', digits.
ALPHABET = st.sampled_from(
    list(string.ascii_letters + string.digits + " .,-'’*_\n")
    + list("éÉèüÜñøßÆæœŒıİ") + ["e\u0301", "ﬁ", "Ａ", "１", "ǅ", "Σ"]
    + list("東京都はアカ한국어漢") + ["\U00020000", "\u3000"]
)  # fmt: skip
TEXTS = st.lists(ALPHABET, max_size=40).map("".join)
WORDS = st.lists(st.sampled_from(list("abcdefghilmnorstuy'’")), min_size=1, max_size=12).map(
    "".join
)


@pytest.mark.slow
@settings(max_examples=600, deadline=None)
@given(TEXTS)
def test_terms_equal_whoosh_analyzer(text: str) -> None:
    assert analysis.analyse(text) == whoosh_terms(text)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_untokenized_terms_equal_whoosh_analyzer(text: str) -> None:
    """Prefix, wildcard and fuzzy query terms are analysed as one token."""
    assert analysis.analyse(text, tokenize=False) == whoosh_terms(text, tokenize=False)


@settings(max_examples=600, deadline=None)
@given(WORDS)
def test_stems_equal_whoosh_stemmer(word: str) -> None:
    assert analysis.analyse(word, tokenize=False) == whoosh_terms(word, tokenize=False)


def test_short_words_with_apostrophes_stem_as_whoosh_does() -> None:
    """Whoosh's stemmer drops the apostrophes of short words (NLTK's, which the
    analysis used before, left words of two characters alone)."""
    alphabet = string.ascii_lowercase + "'’‘‛y"
    for n in (1, 2, 3):
        for chars in itertools.product(alphabet, repeat=n):
            word = "".join(chars)
            assert analysis.analyse(word, tokenize=False) == whoosh_terms(word, tokenize=False), (
                word
            )


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not on this machine")
def test_corpus_lines_analyse_alike() -> None:
    lines = [
        line
        for path in sorted(CORPUS.rglob("*.txt"))[:200]
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
    ]
    assert len(lines) > 1000
    different = [line for line in lines if analysis.analyse(line) != whoosh_terms(line)]
    assert different == []


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_spans_point_at_the_words_they_stand_for(text: str) -> None:
    """Snippet offsets are into the text as stored: the slice analyses to the term."""
    spans = analysis.analyse_spans(text)
    if unicodedata.is_normalized("NFKC", text):
        assert [s[0] for s in spans] == analysis.analyse(text)
    for lexeme, start, end in spans:
        assert 0 <= start < end <= len(text)
        assert lexeme in analysis.analyse(
            text[start:end], tokenize=False
        ) or lexeme in analysis.analyse(text[start:end])


def test_tsvector_positions_weights_and_quoting() -> None:
    terms = pgsql.passage_terms("The harbour's harbour, l'été")
    assert terms == {"the": [1], "harbour": [2, 4], "s": [3], "l": [5], "ete": [6]}
    assert (
        pgsql.tsvector_literal(terms, "title") == "'the':1A 'harbour':2A,4A 's':3A 'l':5A 'ete':6A"
    )
    assert pgsql.tsvector_literal({"it's": [1]}, "body") == "'it''s':1"
    assert pgsql.quote_lexeme("a\\b") == "'a\\\\b'"


@pytest.mark.slow
def test_tsvector_stays_within_postgresql_limits() -> None:
    many = " ".join(["word"] * 20000)
    [positions] = pgsql.passage_terms(many).values()
    assert len(positions) == pgsql.MAX_POSITIONS and positions == list(range(1, 257))
    far = " ".join(f"w{i}" for i in range(17000))
    assert max(p for ps_ in pgsql.passage_terms(far).values() for p in ps_) == pgsql.MAX_POSITION
    giant = "x" * 3000 + " small"
    assert pgsql.passage_terms(giant) == {"small": [2]}
    huge = " ".join(f"t{i:07d}" for i in range(200_000))  # ~1.6 MB of distinct lexemes
    kept = pgsql.passage_terms(huge)
    size = sum(len(k) + 8 for k in kept)
    assert 0 < len(kept) < 200_000 and size <= pgsql.MAX_TSVECTOR_BYTES
    assert all(len(p) == 1 for p in kept.values())


def test_analysis_fingerprint_is_stable_and_names_the_version() -> None:
    assert analysis.analysis_fingerprint() == analysis.analysis_fingerprint()
    assert re.fullmatch(
        rf"{analysis.ANALYSIS_VERSION}:[0-9a-f]{{16}}", analysis.analysis_fingerprint()
    )
