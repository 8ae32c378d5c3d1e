"""Stream-grab test data: the real v1.1 statuses of the tweepy cassette, made to carry
campaign tags in the ways a stream does, packed into tars of compressed per-minute files."""

from __future__ import annotations

import bz2
import copy
import gzip
import io
import json
import lzma
import tarfile
from pathlib import Path
from typing import Any

import zstandard

from tracker.hashtags import normalise_tag

from .import_helpers import v11_search_body

CAMPAIGN_TAGS = {normalise_tag(t) for t in
                 ["AleppoIsBurning", "حلب_تحترق", "MakeFacebookRed", "poiuytrewq", "HOOT"]}
COMPRESS = {"bz2": bz2.compress, "gz": gzip.compress, "xz": lzma.compress,
            "zst": zstandard.ZstdCompressor().compress, "": lambda b: b}


def _tagged(status: dict[str, Any], where: str, tag: str, new_id: int) -> dict[str, Any]:
    s = copy.deepcopy(status)
    s["id"], s["id_str"] = new_id, str(new_id)
    target = s
    if where in ("retweeted_status", "quoted_status"):
        inner = copy.deepcopy(status)
        inner["id"], inner["id_str"] = new_id + 1, str(new_id + 1)
        inner.pop("retweeted_status", None)
        s[where] = inner
        if where == "quoted_status":
            s.pop("retweeted_status", None)
            s["quoted_status_id_str"] = inner["id_str"]
        target = inner
    target["entities"] = dict(target["entities"],
                              hashtags=[*target["entities"]["hashtags"],
                                        {"text": tag, "indices": [0, len(tag) + 1]}])
    target["text"] = f"#{tag} {target['text']}"
    return s


def statuses() -> list[dict[str, Any]]:
    """The cassette's 15 statuses, plus copies (new ids) carrying campaign tags: as their
    own hashtag, in other spellings, or only in the status they retweet or quote."""
    base = v11_search_body()["statuses"]
    plain = [s for s in base if "retweeted_status" not in s]
    out = list(base)
    variants = [("own", "AleppoIsBurning"), ("own", "aleppoisburning"),
                ("own", "ＡｌｅｐｐｏＩｓＢｕｒｎｉｎｇ"), ("own", "حلب_تحترق"),
                ("retweeted_status", "MakeFacebookRed"), ("quoted_status", "حلب_تحترق"),
                ("own", "python_not_a_campaign")]
    for i, (where, tag) in enumerate(variants):
        out.append(_tagged(plain[i % len(plain)], where, tag, 9_000_000_000 + 10 * i))
    return out


def carries(s: dict[str, Any]) -> bool:
    """The oracle: a status's own tags or those of what it retweets or quotes."""
    def tags(x: Any) -> set[str]:
        if not isinstance(x, dict):
            return set()
        return {normalise_tag(h["text"]) for h in x.get("entities", {}).get("hashtags", [])}
    rt = s.get("retweeted_status")
    return bool((tags(s) | tags(rt) | tags(s.get("quoted_status"))
                 | tags(rt.get("quoted_status") if isinstance(rt, dict) else None))
                & CAMPAIGN_TAGS)


def minute_lines(minute: int, ensure_ascii: bool = True) -> list[str]:
    """One minute file of a stream: statuses with delete notices and a limit notice."""
    lines = []
    for i, s in enumerate(statuses()):
        lines.append(json.dumps(s, ensure_ascii=ensure_ascii))
        if i % 3 == 0:
            lines.append(json.dumps({"delete": {"status": {
                "id": 1000 + i, "id_str": str(1000 + i), "user_id": 7, "user_id_str": "7"},
                "timestamp_ms": str(1459468800000 + minute)}}))
    lines.append(json.dumps({"limit": {"track": 12, "timestamp_ms": "1459468800000"}}))
    return lines


def write_tar(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def grab_tar(path: Path, minutes: int = 3, comp: str = "bz2") -> Path:
    members = []
    for m in range(minutes):
        text = ("\n".join(minute_lines(m)) + "\n").encode()
        name = f"2016/04/01/00/{m:02d}.json" + (f".{comp}" if comp else "")
        members.append((name, COMPRESS[comp](text)))
    return write_tar(path, members)
