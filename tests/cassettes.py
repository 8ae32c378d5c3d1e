"""Read the vcrpy cassettes in tests/fixtures/shared: real recorded responses, bodies decoded."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import yaml

from .conftest import fixture_path


def interactions(*parts: str) -> list[dict[str, Any]]:
    """Each interaction as {method, uri, status, headers, body (bytes, decompressed)}."""
    data = yaml.safe_load(fixture_path(*parts).read_text(encoding="utf-8"))
    out = []
    for i in data["interactions"]:
        resp = i["response"]
        body = resp["body"]["string"]
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes):
            body = base64.b64decode(body)
        headers = {k.lower(): v[0] for k, v in resp["headers"].items()}
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        out.append({"method": i["request"]["method"], "uri": i["request"]["uri"],
                    "status": resp["status"]["code"], "headers": headers, "body": body})
    return out


def body(*parts: str, uri_contains: str) -> bytes:
    """The body of the first interaction whose uri contains `uri_contains`."""
    for i in interactions(*parts):
        if uri_contains in i["uri"]:
            return i["body"]
    raise AssertionError(f"no interaction with {uri_contains} in {parts}")


def body_json(*parts: str, uri_contains: str) -> Any:
    return json.loads(body(*parts, uri_contains=uri_contains))
