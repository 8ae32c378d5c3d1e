"""Language names for the language codes the platforms report (X `lang`, Mastodon `language`,
Bluesky `langs`): BCP 47 tags, read by `langcodes` with the names of `language-data` (CLDR),
offline. One function, `name_of`, used wherever the report or a CSV shows a language.

'und' (undetermined), a missing code and a code that names no language (X's own codes for
posts without linguistic text, e.g. 'qme' for media only, 'qht' for hashtags only) are
unknown: "unknown", with the code kept in brackets when it is not 'und'.
"""

from __future__ import annotations

from functools import lru_cache

import langcodes

UNKNOWN = "unknown"


@lru_cache(maxsize=1024)
def name_of(code: str | None) -> str:
    """The English display name of a language code: 'ar' -> 'Arabic', 'pt-BR' -> 'Portuguese
    (Brazil)', 'und' or None -> 'unknown', 'qht' -> 'unknown (qht)'."""
    if not code or code.strip().lower() == "und":
        return UNKNOWN
    try:
        lang = langcodes.Language.get(code.strip())
    except (langcodes.LanguageTagError, ValueError):
        return f"{UNKNOWN} ({code})"
    name = str(lang.display_name("en"))
    if lang.language is None or not lang.is_valid() or name.startswith("Unknown language"):
        return f"{UNKNOWN} ({code})"
    return name


def with_names(rows: list[dict], column: str = "lang", name: str = "language") -> list[dict]:
    """The rows with a `name` column after `column`, holding `name_of` its code."""
    out = []
    for r in rows:
        row: dict = {}
        for k, v in r.items():
            row[k] = v
            if k == column:
                row[name] = name_of(v)
        out.append(row)
    return out
