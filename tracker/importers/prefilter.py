"""A prefilter before JSON parsing: which lines of a JSON-lines block may carry a campaign tag.

A tag matches when its comparison form (`hashtags.normalise_tag`: NFKC, case folded) is a
campaign's, so a line can spell it many ways: any case, full-width or other compatibility
forms (＃ＡｌｅｐｐｏＩｓＢｕｒｎｉｎｇ, Arabic presentation forms), one-code-point ligatures
(ﬁ for fi), an accent written as a base letter plus a combining mark; and JSON may write each
character raw (UTF-8) or as a `\\uXXXX` escape in either hex case (X v1.1 streams escape every
non-ASCII character, astral ones as surrogate pairs).

So a block of lines is first decoded as text with its escapes resolved (codecs, at C speed,
never a JSON parse), and lower-cased; the tags' comparison forms are then plain substrings to
find. Only a line holding a character that normalisation could turn into a tag's character
(the *unusual spellings*: full-width forms, upper-case non-ASCII letters, combining marks, ...,
found once by scanning all of Unicode) is normalised as `normalise_tag` does, line by line,
before the search. A line the prefilter rejects cannot carry the tag; a line it passes is
parsed and its tags compared properly (`streamgrab.carries`).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator

from ..hashtags import normalise_tag

_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.cache
def _preimages() -> dict[str, frozenset[str]]:
    """Comparison form -> the non-ASCII code points that normalise to it but are not it
    (computed once per process, about a second: a scan of all of Unicode)."""
    out: dict[str, set[str]] = {}
    for cp in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        form = normalise_tag(ch)
        if form and form != ch:
            out.setdefault(form, set()).add(ch)
    return {k: frozenset(v) for k, v in out.items()}


def unusual(tags: Iterable[str]) -> set[str]:
    """Characters that can stand for (part of) a tag only once normalised."""
    pre = _preimages()
    longest = max(map(len, pre), default=1)
    out: set[str] = set()
    for tag in tags:
        for i in range(len(tag)):
            for k in range(1, longest + 1):
                out.update(pre.get(tag[i:i + k], ()))
        for ch in set(tag):
            if ch.lower() != ch:
                out.add(ch)
            for variant in (ch, ch.upper()):   # a base letter and combining marks
                out.update(unicodedata.normalize("NFD", variant)[1:])
    return out


def decode(block: bytes) -> str:
    """A JSON-lines block as text: UTF-8 decoded, `\\uXXXX` escapes resolved (surrogate
    pairs joined). Other escapes stay as they are."""
    if block.isascii():
        text = block.decode("raw_unicode_escape", "replace")
    else:
        text = block.decode("utf-8", "replace")
        if b"\\u" in block or b"\\U" in block:
            text = text.encode("raw_unicode_escape").decode("raw_unicode_escape", "replace")
    if _SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def canonical(text: str) -> str:
    """Text in the comparison form of tags (as `normalise_tag`, without removing '#')."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _escaped(ch: str) -> bytes:
    """A character as a JSON escape, lower-case hex (surrogate pair above the BMP)."""
    cp = ord(ch)
    if cp > 0xFFFF:
        cp -= 0x10000
        return b"\\u%04x\\u%04x" % (0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF))
    return b"\\u%04x" % cp


def _json_form(text: str) -> bytes:
    """Text as an escaping JSON encoder writes it: ASCII as is, the rest escaped."""
    return b"".join(c.encode() if c.isascii() else _escaped(c) for c in text)


def _alternation(forms: Iterable[bytes]) -> bytes:
    """A byte regex matching any of `forms`, as a trie: at each byte a set of next bytes, so
    a search fails at the first byte that leads nowhere (most escapes fail at their second
    hex digit)."""
    trie: dict[int, dict] = {}
    for f in forms:
        node = trie
        for b in f:
            node = node.setdefault(b, {})
        node[-1] = {}

    def regex(node: dict[int, dict]) -> bytes:
        end = -1 in node
        branches = {b: regex(child) for b, child in node.items() if b != -1}
        by_tail: dict[bytes, list[int]] = {}
        for b, tail in branches.items():
            by_tail.setdefault(tail, []).append(b)
        alts = []
        for tail, heads in sorted(by_tail.items()):
            head = (re.escape(bytes(heads)) if len(heads) == 1 else
                    b"[" + b"".join(re.escape(bytes([h])) for h in sorted(heads)) + b"]")
            alts.append(head + tail)
        if not alts:
            return b""
        body = alts[0] if len(alts) == 1 and not end else b"(?:" + b"|".join(alts) + b")"
        return body + (b"?" if end else b"")

    return regex(trie) if trie else b"(?!)"


class Prefilter:
    """Finds the lines of a block that may carry one of `tags` (any spelling)."""

    def __init__(self, tags: Iterable[str]):
        self.tags = sorted({n for n in (normalise_tag(t) for t in tags) if n})
        chars = {c for u in unusual(self.tags) for c in (u, *u.lower()) if not c.isascii()}
        self.unusual = re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]"
                                  if chars else "(?!)")
        # bytes: the tags as written raw or escaped (in a lower-cased block), and the unusual
        # characters raw or escaped, ASCII tag letters escaped too
        needles = {t.encode() for t in self.tags} | {_json_form(t) for t in self.tags}
        self.needles = sorted(needles)
        # two searches: escapes (with their literal prefix, sre finds them fast) and raw
        # UTF-8, only needed in a block that is not all ASCII (a stream's never is)
        escapes = [_escaped(c)[2:] for c in chars]
        escapes += [_escaped(c)[2:] for t in self.tags for c in t if c.isascii()]
        self.odd = re.compile(b"\\\\u" + _alternation(escapes))
        self.odd_raw = re.compile(_alternation([c.encode() for c in chars]))

    def __getstate__(self) -> dict[str, object]:   # sent to scan workers
        return {"tags": self.tags, "unusual": self.unusual.pattern, "needles": self.needles,
                "odd": self.odd.pattern, "odd_raw": self.odd_raw.pattern}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.tags = list(state["tags"])  # type: ignore[call-overload]
        self.unusual = re.compile(str(state["unusual"]))
        self.needles = list(state["needles"])  # type: ignore[call-overload]
        self.odd = re.compile(state["odd"])  # type: ignore[call-overload]
        self.odd_raw = re.compile(state["odd_raw"])  # type: ignore[call-overload]

    def lines(self, block: bytes) -> Iterator[tuple[int, int]]:
        """(start, end) of each line of `block` (lines end at b"\\n") that may carry a tag,
        in order."""
        low = block.lower()
        if not block.isascii() and b"\\u" in low:   # raw and escaped text mixed: as text
            yield from self._as_text(block)
            return
        starts: set[int] = set()
        for needle in self.needles:
            pos = low.find(needle)
            while pos >= 0:
                starts.add(low.rfind(b"\n", 0, pos) + 1)
                end = low.find(b"\n", pos)
                pos = low.find(needle, end + 1) if end >= 0 else -1
        for odd in (self.odd, self.odd_raw) if not block.isascii() else (self.odd,):
            m = odd.search(low)
            while m is not None:
                start = low.rfind(b"\n", 0, m.start()) + 1
                end = low.find(b"\n", m.start())
                stop = end if end >= 0 else len(low)
                if start not in starts and self._found(decode(block[start:stop])):
                    starts.add(start)
                m = odd.search(low, end + 1) if end >= 0 else None
        for start in sorted(starts):
            end = block.find(b"\n", start)
            yield start, len(block) if end < 0 else end

    def _as_text(self, block: bytes) -> Iterator[tuple[int, int]]:
        text = decode(block)
        if text.count("\n") != block.count(b"\n"):   # an escaped newline: line by line
            yield from self._by_line(block)
            return
        line, start = 0, 0
        for k in self._found(text):
            while line < k:
                start = block.index(b"\n", start) + 1
                line += 1
            end = block.find(b"\n", start)
            yield start, len(block) if end < 0 else end

    def _found(self, text: str) -> list[int]:
        """Numbers (0-based, ascending) of the lines of `text` that may carry a tag."""
        low = text.lower()
        starts: dict[int, bool] = {}    # line start -> found as is (else: normalise first)
        for tag in self.tags:
            pos = low.find(tag)
            while pos >= 0:
                starts[low.rfind("\n", 0, pos) + 1] = True
                end = low.find("\n", pos)
                pos = low.find(tag, end + 1) if end >= 0 else -1
        search = self.unusual.search
        m = search(low)
        while m is not None:
            start = low.rfind("\n", 0, m.start()) + 1
            end = low.find("\n", m.start())
            if start not in starts:
                norm = canonical(low[start:end if end >= 0 else len(low)])
                if any(tag in norm for tag in self.tags):
                    starts[start] = False
            m = search(low, end + 1) if end >= 0 else None
        out, line, prev = [], 0, 0
        for start in sorted(starts):
            line += low.count("\n", prev, start)
            prev = start
            out.append(line)
        return out

    def _by_line(self, block: bytes) -> Iterator[tuple[int, int]]:
        start = 0
        for line in block.split(b"\n"):
            if self._found(decode(line).replace("\n", " ")):
                yield start, start + len(line)
            start += len(line) + 1
