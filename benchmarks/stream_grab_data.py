"""Write a synthetic Twitter Stream Grab tar: per-minute `.json.bz2` files of X v1.1 lines.

    python benchmarks/stream_grab_data.py /tmp/grab.tar --mb 1024 --distinct 24

Statuses have the shapes of the real v1.1 statuses in tests/fixtures/shared/x_v1 (the tweepy
cassette): each is a copy of one of them with fresh ids, user, time, text and hashtags; text
mixes English, Arabic and Japanese words and emoji, written as the stream wrote it (JSON with
every non-ASCII character escaped). About a quarter of the lines are `{"delete": ...}`
notices, a few are `{"limit": ...}` notices, and `--match` (default 0.1%) of the statuses
carry a campaign tag (#AleppoIsBurning or #حلب_تحترق): as their own hashtag, or only in the
status they retweet.

Compressing a gigabyte of bz2 takes a long time on a small machine, so `--distinct` minute
files are generated and compressed, and the tar repeats them under fresh member names until it
reaches `--mb`: scanning a repeated member costs what scanning a new one does.
"""

from __future__ import annotations

import argparse
import bz2
import io
import json
import random
import re
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CASSETTE = (ROOT / "tests" / "fixtures" / "shared" / "x_v1"
            / "tweepy_cassette_v11_search_tweets.json")
WORDS = ("the people city news today live help aid hospital night bombs children water "
         "pray world report video photo breaking update").split()
ARABIC = "حلب سوريا الأطفال مستشفى اليوم أخبار عاجل الله".split()
JAPANESE = "今日 ニュース 東京 地震 情報 写真 動画 速報".split()
EMOJI = ["\U0001F622", "\U0001F64F", "\u2764\ufe0f", "\U0001F1F8\U0001F1FE", "\U0001F602"]
OTHER_TAGS = ["news", "Syria", "breaking", "سوريا", "ニュース", "love", "MTVHottest"]
CAMPAIGN_TAGS = ["AleppoIsBurning", "حلب_تحترق"]
STATUSES_PER_MINUTE = 2000


def templates() -> list[dict[str, Any]]:
    cassette = json.loads(CASSETTE.read_text(encoding="utf-8"))
    body = json.loads(cassette["interactions"][0]["response"]["body"]["string"])
    return body["statuses"]


def _text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(6, 18)):
        pool = rng.choices([WORDS, ARABIC, JAPANESE, EMOJI], weights=[6, 2, 2, 1])[0]
        parts.append(rng.choice(pool))
    for _ in range(rng.randint(0, 2)):
        parts.append("https://t.co/" + "".join(rng.choices(_B62, k=10)))
    return " ".join(parts)


_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,}")


def _scramble(rng: random.Random, value: Any) -> Any:
    """Fresh ids, numbers and URL tokens everywhere (media, urls, counts): real statuses
    share little, and their bz2 ratio is about 10x, not what copies of one status give."""
    if isinstance(value, dict):
        return {k: v if k in ("created_at", "lang") else _scramble(rng, v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_scramble(rng, v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and value > 1000:
        return rng.randrange(value // 10 + 1, value * 10)
    if isinstance(value, str):
        return _TOKEN.sub(lambda m: "".join(rng.choices(_B62, k=len(m.group()))), value)
    return value


def _user(rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    """A user object with fresh values (real ones differ in most fields)."""
    uid = rng.randrange(10**6, 10**10)
    img = f"{rng.getrandbits(128):032x}"
    return dict(base, id=uid, id_str=str(uid), screen_name=f"u{uid:x}", name=_text(rng)[:20],
                description=_text(rng), location=rng.choice(ARABIC + WORDS + JAPANESE),
                followers_count=rng.randrange(0, 50_000),
                friends_count=rng.randrange(0, 5_000),
                statuses_count=rng.randrange(0, 200_000),
                favourites_count=rng.randrange(0, 20_000),
                created_at=f"Mon Mar {rng.randrange(1, 29):02d} 0{rng.randrange(10)}:12:00 +0000 "
                           f"{rng.randrange(2007, 2016)}",
                profile_image_url=f"http://pbs.twimg.com/profile_images/{uid}/{img}_normal.jpg",
                profile_image_url_https=f"https://pbs.twimg.com/profile_images/{uid}/{img}"
                                        "_normal.jpg",
                profile_banner_url=f"https://pbs.twimg.com/profile_banners/{uid}/"
                                   f"{rng.randrange(10**9, 10**10)}",
                profile_link_color=f"{rng.getrandbits(24):06X}",
                profile_background_color=f"{rng.getrandbits(24):06X}")


def _status(rng: random.Random, base: dict[str, Any], n: int, minute: int,
            tag: str | None) -> dict[str, Any]:
    s = _scramble(rng, base)
    tid = 716000000000000000 + minute * 100_000 + n
    s["id"], s["id_str"] = tid, str(tid)
    s["created_at"] = (f"Fri Apr 01 {minute // 60 % 24:02d}:{minute % 60:02d}:{n % 60:02d} "
                       "+0000 2016")
    s["user"] = _user(rng, s["user"])
    if isinstance(s.get("retweeted_status"), dict):
        rt = s["retweeted_status"]
        rid = rng.randrange(10**17, 7 * 10**17)
        rt.update(id=rid, id_str=str(rid), text=_text(rng), user=_user(rng, rt["user"]),
                  retweet_count=rng.randrange(1, 5000))
    tags = rng.sample(OTHER_TAGS, rng.choice([0, 0, 0, 1, 2]))
    holder = s
    if tag and isinstance(s.get("retweeted_status"), dict) and rng.random() < 0.5:
        holder = s["retweeted_status"]    # the tag only in the retweeted status
    elif tag:
        tags.append(tag)
    if holder is not s:
        holder["entities"] = dict(holder["entities"], hashtags=[{"text": tag, "indices": [0, 1]}])
    s["text"] = _text(rng) + "".join(f" #{t}" for t in tags)
    s["entities"] = dict(s["entities"], hashtags=[{"text": t, "indices": [0, 1]} for t in tags])
    return s


def minute_file(minute: int, match: float, seed: int) -> tuple[bytes, int, int]:
    """One minute of stream (JSON lines): its bytes, lines, statuses carrying a tag."""
    rng = random.Random(seed * 100_003 + minute)
    bases = templates()
    out = io.StringIO()
    lines = matched = 0
    for n in range(STATUSES_PER_MINUTE):
        tag = rng.choice(CAMPAIGN_TAGS) if rng.random() < match else None
        matched += tag is not None
        out.write(json.dumps(_status(rng, rng.choice(bases), n, minute, tag)) + "\n")
        lines += 1
        if rng.random() < 0.33:
            did = rng.randrange(10**17, 10**18)
            out.write(json.dumps({"delete": {"status": {
                "id": did, "id_str": str(did), "user_id": 1, "user_id_str": "1"},
                "timestamp_ms": str(1459468800000 + minute * 60_000 + n)}}) + "\n")
            lines += 1
    out.write(json.dumps({"limit": {"track": rng.randrange(1000),
                                    "timestamp_ms": "1459468800000"}}) + "\n")
    return out.getvalue().encode(), lines + 1, matched


def write_grab(path: Path, mb: float, distinct: int, match: float = 0.001,
               seed: int = 2016) -> dict[str, float]:
    """Write the tar; what it holds."""
    members = []
    raw = lines = matched = 0
    t0 = time.perf_counter()
    for m in range(distinct):
        data, n, k = minute_file(m, match, seed)
        members.append((bz2.compress(data, 9), len(data), n, k))
        print(f"  minute {m + 1}/{distinct}: {len(data) / 1e6:.1f} MB -> "
              f"{len(members[-1][0]) / 1e6:.2f} MB bz2", file=sys.stderr)
    target = int(mb * 1_000_000)
    written = count = 0
    with tarfile.open(path, "w") as tar:
        while written < target:
            data, size, n, k = members[count % distinct]
            day, minute = divmod(count, 1440)
            info = tarfile.TarInfo(f"2016/04/{day + 1:02d}/{minute // 60:02d}/"
                                   f"{minute % 60:02d}.json.bz2")
            info.size = len(data)
            info.mtime = 1459468800 + count * 60
            tar.addfile(info, io.BytesIO(data))
            written += len(data) + 512
            raw += size
            lines += n
            matched += k
            count += 1
    return {"members": count, "distinct": distinct, "bytes": path.stat().st_size,
            "raw_bytes": raw, "lines": lines, "matched": matched,
            "seconds": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--mb", type=float, default=1024)
    ap.add_argument("--distinct", type=int, default=24)
    ap.add_argument("--match", type=float, default=0.001)
    args = ap.parse_args()
    info = write_grab(args.path, args.mb, args.distinct, args.match)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
