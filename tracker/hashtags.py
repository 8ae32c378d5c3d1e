"""Hashtag normalisation: one rule, used by config, loaders and tests.

A tag is compared after Unicode NFKC normalisation and case folding, without the leading '#'
(or its full-width form). So #AleppoIsBurning, #aleppoisburning and the full-width
＃ＡｌｅｐｐｏＩｓＢｕｒｎｉｎｇ are one tag, and Arabic tags such as
#حلب_تحترق compare by their normalised code points.
"""

import re
import unicodedata
from functools import lru_cache

_HASH = re.compile(r"^[#\uFF03]+")
_HASH_IN_TEXT = re.compile(r"[#\uFF03]")


# Characters a hashtag is made of, in any script: letters, marks (vowel signs, diacritics),
# numbers, connector punctuation such as '_', and the zero-width (non-)joiners some scripts
# need. No spaces, no '#', no other punctuation: a platform ends the tag there.
_TAG_CATEGORIES = ("L", "M", "N", "Pc")
_JOINERS = {"\u200c", "\u200d"}


def is_hashtag(tag: str) -> bool:
    """Whether `tag` (with or without one leading '#') is a single hashtag as platforms see it."""
    body = unicodedata.normalize("NFKC", tag)
    body = body[1:] if body[:1] == "#" else body
    return bool(body) and all(ch in _JOINERS or unicodedata.category(ch).startswith(
        _TAG_CATEGORIES) for ch in body)


@lru_cache(maxsize=65536)
def normalise_tag(tag: str) -> str:
    """Return the comparison form of a hashtag: NFKC, casefolded, without '#'."""
    folded = unicodedata.normalize("NFKC", tag.strip())
    folded = _HASH.sub("", folded)
    return unicodedata.normalize("NFKC", folded.casefold())


# Marks that make an emoji of what precedes them, never part of a tag: the variation
# selectors and the combining keycap (#️⃣ is the keycap emoji "#", not a tag)
_EMOJI_MARKS = {"\ufe0e", "\ufe0f", "\u20e3"}


def _in_text_tag(ch: str) -> bool:
    """A character a hashtag in text is made of: a letter, digit or other number, '_', a mark
    (vowel sign, combining accent) other than the emoji ones, or a zero-width (non-)joiner.
    (Python's `\\w` has no marks nor joiners: it cut #किसान_आंदोलन after its first letter.)"""
    if ch.isalnum() or ch == "_" or ch in _JOINERS:
        return True
    return unicodedata.category(ch)[0] == "M" and ch not in _EMOJI_MARKS


def tags_in_text(text: str) -> list[str]:
    """Hashtags as written in free text (used for sources without tag entities, e.g. CSV).

    Close to twitter-text's rule: '#' or '＃' not right after a tag character or '&', then the
    run of tag characters (`_in_text_tag`), which must hold a letter (so #2024 is no tag, #1st
    is; nor is a lone combining accent, nor the keycap emoji #️⃣). Joiners at either end of the
    run are not part of the tag.
    """
    text = text or ""
    found = []
    for m in _HASH_IN_TEXT.finditer(text):
        start = m.start()
        if start and (text[start - 1] == "&" or _in_text_tag(text[start - 1])):
            continue
        end = start + 1
        while end < len(text) and _in_text_tag(text[end]):
            end += 1
        body = text[start + 1:end].strip("\u200c\u200d")
        if any(ch.isalpha() for ch in body):
            found.append(body)
    return found
