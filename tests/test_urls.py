"""The one definition of a normalised link and its registered domain (tracker/urls.py)."""

from __future__ import annotations

import socket

import pytest

from tracker import urls
from tracker.urls import normalise_url, registered_domain


@pytest.mark.parametrize(("posted", "normalised"), [
    ("HTTPS://News.BBC.co.uk:443/News/World?utm_source=tw&b=1&fbclid=x#top",
     "https://news.bbc.co.uk/News/World?b=1"),
    ("http://example.org", "http://example.org/"),
    ("http://example.org:8080/a?ref_src=twsrc&igshid=1&gclid=2&q=Aleppo",
     "http://example.org:8080/a?q=Aleppo"),
    ("https://user:pw@Example.org/x?a=1&a=2", "https://example.org/x?a=1&a=2"),
    ("  https://example.org/path/  ", "https://example.org/path/"),
    ("mailto:press@example.org", "mailto:press@example.org"),
    ("javascript:alert(1)", "javascript:alert(1)"),
    ("example.org/no-scheme", "example.org/no-scheme"),
    ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
    ("http://example.org:notaport/x", "http://example.org:notaport/x"),
])
def test_normalise_url(posted, normalised):
    assert normalise_url(posted) == normalised


def test_no_link_is_none():
    assert normalise_url(None) is None and normalise_url("  ") is None
    assert registered_domain(None) is None


@pytest.mark.parametrize(("url", "domain"), [
    ("https://news.bbc.co.uk/x", "bbc.co.uk"),
    ("https://www.theguardian.com/world", "theguardian.com"),
    ("https://a.b.github.io/", "github.io"),           # ICANN suffix io, not the private one
    ("http://192.168.0.1:8080/x", "192.168.0.1"),
    ("http://localhost:3000/@a/1", "localhost"),
    ("mailto:press@example.org", None),
])
def test_registered_domain(url, domain):
    assert registered_domain(url) == domain


def test_suffix_list_is_read_offline(monkeypatch):
    """The bundled Public Suffix List snapshot: nothing is looked up or fetched, even on a
    first use (tldextract swallows a failed fetch, so attempts are recorded, not refused)."""
    attempts = []

    def record(*args, **_kw):
        attempts.append(args)
        raise OSError("no network in tests")
    monkeypatch.setattr(socket, "getaddrinfo", record)
    monkeypatch.setattr(socket, "create_connection", record)
    urls._extractor.cache_clear()   # as on a first use: made again, the list read again
    registered_domain.cache_clear()
    assert registered_domain("https://www.example.com.au/") == "example.com.au"
    registered_domain.cache_clear()
    assert attempts == []
