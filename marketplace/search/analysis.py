"""Text analysis for mixed Chinese / Latin-script text, as a Whoosh analyzer.

The pipeline is ``MixedTokenizer | LowercaseFilter | CharsetFilter(accents) |
StopFilter | LatinStemFilter``:

* The text is NFKC-normalised first (full-width ``ＧａＮ　传感器`` becomes ``GaN 传感器``);
  token offsets still point into the original text, so Whoosh highlighting works.
* Runs of Han characters are segmented by jieba. At index time every word is
  followed by its dictionary sub-words (jieba's search mode: ``传感器`` also gives
  ``传感``, ``感器``) and, for words jieba's HMM invented (not in its dictionary),
  by their single characters. At query time only the precise segmentation is
  used; :func:`word_parts` gives the decomposition the engine may fall back on,
  so a query word still matches a document that segmented differently.
* Everything else is split on Unicode word characters (Latin, Cyrillic, kana,
  Hangul, digits, ...), lowercased, accent-folded, English stop words removed
  and Porter-stemmed (``sensors`` -> ``sensor``). Other languages get the same
  treatment at index and query time, which keeps matching consistent.

jieba is initialised lazily, once per process, with its 9 MB cache file in the
folder given to :func:`configure` (the search folder inside the instance folder),
never in the system temp folder. Changing the analysis (or the domain
vocabulary below) changes the indexed terms: bump ``ANALYSIS_VERSION`` and run
``flask search reindex``.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
import warnings
from pathlib import Path

from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, StopFilter, Token, Tokenizer
from whoosh.analysis.analyzers import STOP_WORDS, CompositeAnalyzer
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.highlight import highlight as whoosh_highlight
from whoosh.lang.porter import stem as porter_stem
from whoosh.support.charset import accent_map

logger = logging.getLogger(__name__)

ANALYSIS_VERSION = 1

# CJK Unified Ideographs, extension A, compatibility ideographs and the
# supplementary planes' extensions B and later.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RUN = re.compile(f"[{_HAN}]+")
_RUNS = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<word>[^\W{_HAN}]+(?:\.[^\W{_HAN}]+)*)")

# Function words that carry no meaning on their own in challenge texts.
CHINESE_STOP_WORDS = frozenset(
    "的 了 和 与 及 或 在 是 对 为 以 将 等 之 并 而 于 由 被 把 从 其 这 那 也 就 都 中".split()
)

# Domain vocabulary missing from jieba's general dictionary. Without it, jieba's
# HMM guesses at these words and may segment them differently in different
# sentences, which would make a document unfindable by its own key terms.
DOMAIN_WORDS = (
    "晶圆 芯粒 良率 硅光 算力 类脑 点云 氮化镓 石墨烯 量子点 微机电 大模型 功率器件 先进封装 薄膜沉积 "
    "化学机械抛光 图像传感器 柔性电子 高熵合金 固态电池 正极材料 负极材料 机器学习 深度学习 计算机视觉 "
    "自然语言处理 强化学习 联邦学习 边缘计算 量子计算 光子芯片 存算一体 读出电路 缺陷检测 热管理 "
    "语义分割 目标检测 数字孪生 工业互联网 自动驾驶 生物传感 可穿戴 医疗影像 碳中和 宽禁带 异质集成 "
    "晶圆级 光电探测器 红外探测器 气体传感器 温度传感器 压力传感器 磁传感器 超导 忆阻器 多模态"
).split()

_MAX_TOKEN_CHARS = 80

_jieba_lock = threading.Lock()
_jieba_tokenizer = None
_cache_dir: Path | None = None


def configure(cache_dir: Path) -> None:
    """Choose the folder for jieba's cache file; effective until jieba is first used."""
    global _cache_dir
    with _jieba_lock:
        if _jieba_tokenizer is None:
            _cache_dir = Path(cache_dir)


def _jieba():
    """The process-wide jieba tokenizer, initialised on first use."""
    global _jieba_tokenizer
    tokenizer = _jieba_tokenizer
    if tokenizer is not None:
        return tokenizer
    with _jieba_lock:
        if _jieba_tokenizer is None:
            _jieba_tokenizer = _load_jieba(_cache_dir)
        return _jieba_tokenizer


def _load_jieba(cache_dir: Path | None):
    # jieba 0.42 has invalid escape sequences (a DeprecationWarning or SyntaxWarning
    # when its bytecode is compiled) and may import the deprecated pkg_resources.
    # A warnings filter keyed on the module cannot catch compile-time warnings
    # (they carry the file path, not the module name), so silence them here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", UserWarning)
        import jieba
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tokenizer.tmp_dir = str(cache_dir)
    else:
        logger.warning("search.analysis.configure() was not called: jieba caches in the system temp folder")
    tokenizer.initialize()
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word)
    return tokenizer


def _normalise(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """NFKC-normalise `text`, with maps from each normalised character to its
    original span (None when the text was already normalised)."""
    if unicodedata.is_normalized("NFKC", text):
        return text, None, None
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, length = 0, len(text)
    while i < length:
        # A base character and its combining marks normalise together.
        j = i + 1
        while j < length and unicodedata.combining(text[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j])
        pieces.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return "".join(pieces), starts, ends


def is_han(word: str) -> bool:
    return bool(word) and _HAN_RUN.fullmatch(word) is not None


def _in_dictionary(word: str) -> bool:
    return bool(_jieba().FREQ.get(word))


@functools.lru_cache(maxsize=200_000)
def _index_subwords(word: str) -> tuple[tuple[str, int], ...]:
    """Sub-words (with their offset in `word`) indexed after a jieba word."""
    if len(word) < 2:
        return ()
    found: list[tuple[str, int]] = []
    for size in (2, 3):
        if len(word) > size:
            for i in range(len(word) - size + 1):
                gram = word[i:i + size]
                if _in_dictionary(gram):
                    found.append((gram, i))
    if not _in_dictionary(word):
        # An HMM guess: index its characters too, see word_parts().
        found.extend((char, i) for i, char in enumerate(word))
    return tuple(found)


@functools.lru_cache(maxsize=20_000)
def word_parts(word: str) -> tuple[str, ...]:
    """For an analysed Chinese query word, terms that together stand for it in a
    document that segmented it differently: its characters for a word jieba's
    HMM invented, its dictionary sub-words when they cover every character.
    Empty when there is no such decomposition (and for non-Chinese words)."""
    if len(word) < 2 or not is_han(word):
        return ()
    if not _in_dictionary(word):
        return tuple(dict.fromkeys(char for char in word if char not in CHINESE_STOP_WORDS))
    subwords = [(gram, i) for gram, i in _index_subwords(word) if len(gram) > 1]
    covered = set()
    for gram, i in subwords:
        covered.update(range(i, i + len(gram)))
    if len(covered) < len(word):
        return ()
    return tuple(dict.fromkeys(gram for gram, _ in subwords))


def _segment_han(run: str, offset: int, *, index: bool):
    for word, start, end in _jieba().tokenize(run, mode="default", HMM=True):
        yield word, offset + start, offset + end
        if index:
            for sub, at in _index_subwords(word):
                yield sub, offset + start + at, offset + start + at + len(sub)


class MixedTokenizer(Tokenizer):
    """Splits text into Han runs (segmented by jieba) and other word runs.

    Whoosh calls analyzers with ``mode="index"`` when indexing and
    ``mode="query"`` when parsing queries and highlighting.
    """

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return

        text, starts, ends = _normalise(value)
        index = mode != "query"
        pos = start_pos
        for run in _RUNS.finditer(text):
            if run.lastgroup == "han":
                words = _segment_han(run.group(), run.start(), index=index)
            else:
                words = ((run.group(), run.start(), run.end()),)
            for word, start, end in words:
                token.text = word
                token.boost = 1.0
                token.stopped = False
                original_start = start if starts is None else starts[start]
                original_end = end if ends is None else ends[end - 1]
                if keeporiginal:
                    token.original = value[original_start:original_end]
                if positions:
                    token.pos = pos
                    pos += 1
                if chars:
                    token.startchar = start_char + original_start
                    token.endchar = start_char + original_end
                yield token


@functools.lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return porter_stem(word)


class LatinStemFilter(Filter):
    """Porter stemming for every token that is not Chinese."""

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped and not _HAN_RUN.match(token.text):
                token.text = _stem(token.text)
            yield token


def build_analyzer() -> CompositeAnalyzer:
    return (
        MixedTokenizer()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS | CHINESE_STOP_WORDS, minsize=1, maxsize=_MAX_TOKEN_CHARS)
        | LatinStemFilter()
    )


ANALYZER = build_analyzer()


def query_words(text: str) -> list[str]:
    """The analysed terms of a user query, in order, without repeats."""
    return list(dict.fromkeys(token.text for token in ANALYZER(text, mode="query")))


def highlight(text: str, query: str, *, max_chars: int = 200, fragments: int = 2) -> str:
    """Fragments of `text` around the query's terms, HTML-escaped, terms in
    ``<mark>``; an empty string when nothing matches (show the summary instead)."""
    terms: set[str] = set()
    for word in query_words(query):
        terms.add(word)
        terms.update(word_parts(word))
    if not text or not terms:
        return ""
    return whoosh_highlight(
        text,
        frozenset(terms),
        ANALYZER,
        ContextFragmenter(maxchars=max_chars, surround=max_chars // 3),
        HtmlFormatter(tagname="mark", between=" … "),
        top=fragments,
        # Index mode also yields the sub-words (传感 inside 传感器), so a query
        # term matched through a sub-word is marked too.
        mode="index",
    )
