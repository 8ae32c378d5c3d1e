"""Links in posts: one definition of a normalised URL and of its registered domain.

Used by the loader (through `tracker/store/forms.py`, once per distinct URL of a batch, for
`warehouse/normalise/_links.sql`) and by the tests' plain-Python oracle, so the rule is
written once.

`normalise_url`: an http(s) URL with the scheme and host lowercased, the default port, the
fragment, the user info and the tracking parameters (TRACKING_PARAMS, and every `utm_*`)
dropped, and an empty path written `/`. The path and the other query parameters keep their
case and order. Any other text (no scheme, `mailto:`, `javascript:`, ...) is kept as given,
stripped of surrounding spaces: it is a link as posted, but has no domain.

`registered_domain`: the domain a person registered (`bbc.co.uk` for `news.bbc.co.uk`), by
the Public Suffix List snapshot bundled with tldextract (never fetched from the network); a
host with no known suffix (an IP address, `localhost`) is the host itself.
"""

from __future__ import annotations

import contextlib
import threading
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    import tldextract

# query parameters that identify the click, not the page (exact names; plus every utm_*)
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "igshid", "igsh", "mc_cid",
    "mc_eid", "ref_src", "ref_url", "_hsenc", "_hsmi", "mkt_tok", "yclid", "twclid", "s_cid",
    "si",
})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    """Offline: the bundled suffix list snapshot, no cache directory, no fetch. Made on first
    use: tldextract imports `requests` (0.16 s) and reads the list on its first call (0.05 s)."""
    import tldextract
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    extract.extract_str("example.com", include_psl_private_domains=False)
    return extract


def load_in_background() -> None:
    """Load the suffix list in a thread now (the import does, as it starts: its first batch's
    links need it, and its first batch is read and parsed meanwhile)."""
    if not _extractor.cache_info().currsize:   # not loaded yet
        threading.Thread(target=_load, name="tracker-suffix-list", daemon=True).start()


def _load() -> None:
    with contextlib.suppress(Exception):   # if it fails, its first use says why
        _extractor()


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low.startswith("utm_") or low in TRACKING_PARAMS


@lru_cache(maxsize=65536)
def normalise_url(url: str | None) -> str | None:
    """The normalised form of a posted link (see the module docstring); None for no link."""
    if url is None:
        return None
    text = url.strip()
    if not text:
        return None
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return text
        host = parts.hostname.lower().rstrip(".")
        port = parts.port
    except ValueError:  # a port that is not a number, an unbalanced [ in the host
        return text
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _is_tracking(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept, quote_via=quote, safe="/:@!$'()*,;~")
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


@lru_cache(maxsize=65536)
def registered_domain(url: str | None) -> str | None:
    """The registered domain of an http(s) link (e.g. `bbc.co.uk`), None for other links."""
    if url is None:
        return None
    try:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
            return None
        host = parts.hostname.lower().rstrip(".")
    except ValueError:
        return None
    found = _extractor().extract_str(host, include_psl_private_domains=False)
    if found.domain and found.suffix:
        return f"{found.domain}.{found.suffix}"
    return host or None
