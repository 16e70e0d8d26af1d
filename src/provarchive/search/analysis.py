"""The archive's text analysis, in pure Python: the terms the Whoosh engine indexes.

Contract:
- :func:`analyse` gives the terms ``whoosh_engine.analyzer()`` produces, in order:
  NFKC, the token pattern (:data:`TOKEN_PATTERN`), lower-casing, CJK characters one by one, Whoosh's
  accent-folding table, and Whoosh's own Snowball English stemmer (one stemmer for
  every engine: a word stems alike by construction). Engines that do not run Whoosh
  (PostgreSQL) index these terms, so that a word matches the same passages in every
  engine.
- :func:`analyse_spans` gives the same terms with offsets into the original text (for
  snippets); :func:`analysis_fingerprint` names the analysis, so that an index built
  by another one is refused.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

TOKEN_PATTERN = r"(?:[^\W_]|\*)+"
"""A run of letters and digits (``*`` included, for wildcards). Dots and underscores
separate, unlike Whoosh's default pattern, which keeps ``debian.org``, ``www.gnu.org``
and ``foo_bar.py`` as one term each: ``debian`` then finds ``jordi@debian.org`` and
``gnu.org`` (a phrase of two terms) ``www.gnu.org``."""
_TOKEN = re.compile(TOKEN_PATTERN)
_PART = re.compile(r"(?:[^\W_]|[*?\[\]])+")
"""A run the tokenizer keeps together, with the wildcard characters of a query term."""
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9d"
    "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U0002f800-\U0002fa1f"
)
_HAS_CJK = re.compile(f"[{_CJK}]")
_CJK_PIECES = re.compile(f"[{_CJK}]|[^{_CJK}]+")
_FOLDS = (
    # whoosh.support.charset.accent_map (whoosh3 3.54.0, BSD-2-Clause), restricted to
    # characters that survive lower-casing: pairs of (character, its folded form).
    "iinnppssßsàaáaâaãaäaåaçcèeéeêeëeìiíiîiïiðdñnòoóoôoõoöoøoùuúuûuüuýyþtÿyāaăaąaćcĉc"
    "ċcčcďdđdēeĕeėeęeěeĝgğgġgģgĥhħhĩiīiĭiįiıiĵjķkĺlļlľlŀlłlńnņnňnōoŏoőoŕrŗrřrśsŝsşsšs"
    "ţtťtŧtũuūuŭuůuűuųuŵwŷyźzżzžzƀbƃbƈcƌdƒfƙkƚlƞnơoƥpƫtƭtưuƴyƶzƺzǎaǐiǒoǔuǖuǘuǚuǜuǝeǟa"
    "ǡaǣaǥgǧgǩkǫoǭoǯzǰjǵgǹnǻaǽaǿoȁaȃaȅeȇeȉiȋiȍoȏoȑrȓrȕuȗușsțtȟhȡdȥzȧaȩeȫoȭoȯoȱoȳyȴlȵn"
    "ȶtȷjȼcɇeɉjɋqɍrɏyɓbɕcɖdɗdɚeɝeɟjɠgɨiɫlɬlɭlɱmɲnɳnɵoɼrɽrɾrʂsʄjʈtʉuʋvʏyʐzʑzʝjʠq"
    "\u0303p\u0308t\u030ay\u030cj\u0323l\u0329s\u0331hᵬbᵭdᵮfᵲrᵳrᵵtḁaḃbḅbḇbḉcḋdḍdḏdḑd"
    "ḓdḕeḗeḙeḛeḝeḟfḡgḣhḥhḧhḩhḫhḭiḯiḱkḳkḵkḷlḹlḻlḽlḿmṁmṃmṅnṇnṉnṋnṍoṏoṑoṓoṕpṗpṙrṛrṝrṟrṡs"
    "ṣsṥsṧsṩsṫtṭtṯtṱtṳuṵuṷuṹuṻuṽvṿvẁwẃwẅwẇwẉwẋxẍxẏyẑzẓzẕzẖhẗtẘwẙyẚaẛsạaảaấaầaẩaẫaậaắa"
    "ằaẳaẵaặaẹeẻeẽeếeềeểeễeệeỉiịiọoỏoốoồoổoỗoộoớoờoởoỡoợoụuủuứuừuửuữuựuỳyỵyỷyỹyⱡlⱥaⱦt"
    "ⱨhⱪkⱬz０0１1２2３3４4５5６6７7８8９9ａaｂbｃcｄdｅeｆfｇgｈhｉiｊjｋkｌlｍmｎnｏoｐpｑqｒrｓsｔtｕuｖvｗwｘxｙyｚz"
)
_FOLD = str.maketrans(_FOLDS[0::2], _FOLDS[1::2])


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    # Whoosh's copy of the Snowball stemmer, not NLTK's, the code it was taken from:
    # the same stems (Whoosh's also drops the apostrophes of one- and two-letter
    # words), and its module imports in ~8 ms where NLTK's package takes ~190 ms,
    # paid by every search (snippets are analysed here) and every ingest on PostgreSQL.
    from whoosh.lang.snowball.english import EnglishStemmer

    stem: Callable[[str], str] = EnglishStemmer().stem
    return stem


@lru_cache(maxsize=50000)
def stem(word: str) -> str:
    """Snowball English stem, as Whoosh's ``StemFilter(lang="en")`` gives it."""
    return _stemmer()(word)


@lru_cache(maxsize=50000)
def _word_lexemes(word: str) -> tuple[tuple[str, int, int], ...]:
    """The terms of one token, with offsets into it (cached: words repeat, and lower-
    casing, folding and the CJK test cost more than the lookup)."""
    if _HAS_CJK.search(word):
        # Split before lower-casing, which can change lengths ('İ' becomes two
        # characters): CJK characters have no case, so the pieces are the same.
        return tuple(
            (stem(m.group().lower().translate(_FOLD)), m.start(), m.end())
            for m in _CJK_PIECES.finditer(word)
        )
    return ((stem(word.lower().translate(_FOLD)), 0, len(word)),)


def _lexemes(value: str, spans: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for start, end in spans:
        out += [(lexeme, start + a, start + b) for lexeme, a, b in _word_lexemes(value[start:end])]
    return out


def analyse(text_: str, *, tokenize: bool = True) -> list[str]:
    """The terms of ``text_`` as ``whoosh_engine.analyzer()`` produces them, in order;
    a term's position is its index. ``tokenize=False`` analyses it as one token (as
    Whoosh does for prefix, wildcard and fuzzy query terms)."""
    if tokenize and text_.isascii():
        # The common case, four times faster: ASCII is NFKC already, lower-cases
        # character by character, has no CJK and nothing the fold table changes.
        return list(map(stem, _TOKEN.findall(text_.lower())))
    value = unicodedata.normalize("NFKC", text_)
    spans = [m.span() for m in _TOKEN.finditer(value)] if tokenize else [(0, len(value))]
    return [lexeme for lexeme, _, _ in _lexemes(value, spans)]


def multiterm_parts(text_: str, op: str) -> list[tuple[str, str]] | None:
    """A prefix, wildcard or fuzzy query term (``op``: ``prefix`` ``wild`` ``fuzzy``) cut
    where the tokenizer cuts words, or None if it is one word. The index holds no term
    with a ``.`` or ``_`` in it, so ``foo_bar*`` must become ``foo AND bar*``: the last
    part keeps a prefix, every part a fuzzy term, each part with a wildcard its
    wildcard (a part that is only ``*`` goes); the other parts are words. Engines join
    the parts with AND (a superset of the term's matches; nothing that holds it is missed)."""
    parts = _PART.findall(text_)
    if parts == [text_]:
        return None
    out: list[tuple[str, str]] = []
    for i, part in enumerate(parts):
        if op == "wild" and part.strip("*") == "":
            continue
        last = i == len(parts) - 1
        keeps_op = {"fuzzy": True, "prefix": last, "wild": any(c in part for c in "*?[")}
        out.append((op if keeps_op.get(op) else "term", part))
    return out


def analyse_spans(text_: str) -> list[tuple[str, int, int]]:
    """(term, start, end) with offsets into ``text_`` itself (for snippets). Where NFKC
    changes the text, each character with its combining marks is normalised alone and
    offsets are mapped back (Whoosh slices the original with normalised offsets)."""
    if text_.isascii():
        return [(stem(m.group()), *m.span()) for m in _TOKEN.finditer(text_.lower())]
    if unicodedata.is_normalized("NFKC", text_):
        return _lexemes(text_, [m.span() for m in _TOKEN.finditer(text_)])
    pieces: list[str] = []
    origin: list[int] = []  # normalised index -> index of its segment in text_
    bounds: list[int] = []
    i = 0
    while i < len(text_):
        j = i + 1
        while j < len(text_) and unicodedata.combining(text_[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", text_[i:j])
        pieces.append(piece)
        origin += [i] * len(piece)
        bounds += [j] * len(piece)
        i = j
    value = "".join(pieces)
    out = []
    for lexeme, start, end in _lexemes(value, [m.span() for m in _TOKEN.finditer(value)]):
        end = min(end, len(value))
        if start < end:
            out.append((lexeme, origin[start], bounds[end - 1]))
    return out


ANALYSIS_VERSION = 2
"""1: Whoosh's token pattern; 2: dots and underscores separate terms."""
PROBE = (
    "The labourers' résumés: Café Müller, ﬁnancial ＡＢＣ, 東京都 renovations, running; "
    "jordi@debian.org, foo_bar.py 2.4.1"
)
"""A text that exercises every step of the analysis: engines record what they make of it."""


def analysis_fingerprint() -> str:
    """Recorded at create(): an index built by another analysis is refused by check()."""
    probe = "|".join(analyse(PROBE))
    return f"{ANALYSIS_VERSION}:{hashlib.sha256(probe.encode()).hexdigest()[:16]}"
