"""Hashtag normalisation: one rule, used by config, loaders and tests.

A tag is compared after Unicode NFKC normalisation and case folding, without the leading '#'
(or its full-width form). So #AleppoIsBurning, #aleppoisburning and the full-width
＃ＡｌｅｐｐｏＩｓＢｕｒｎｉｎｇ are one tag, and Arabic tags such as
#حلب_تحترق compare by their normalised code points.
"""

import re
import unicodedata

_HASH = re.compile(r"^[#\uFF03]+")
# Letters, marks, digits, connector punctuation (underscore) in any script.
_TAG_IN_TEXT = re.compile(r"(?:^|(?<=[^\w&]))[#\uFF03](\w+)", re.UNICODE)


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


def normalise_tag(tag: str) -> str:
    """Return the comparison form of a hashtag: NFKC, casefolded, without '#'."""
    folded = unicodedata.normalize("NFKC", tag.strip())
    folded = _HASH.sub("", folded)
    return unicodedata.normalize("NFKC", folded.casefold())


def tags_in_text(text: str) -> list[str]:
    """Hashtags as written in free text (used for sources without tag entities, e.g. CSV)."""
    return _TAG_IN_TEXT.findall(text or "")
