"""Links and media items of the simulated source's posts, in each platform's own shape.

About 30% of the posts that are not reposts share a link, drawn heavy-headed from a pool of
articles on a few news sites (some written with tracking parameters or an upper-case host,
which normalise to the same link); about 20% carry photos (1-3; a quarter of them from a pool
of images passed around) and 3% a video. Draws are hashes of the post index (as every other
draw of the simulated source), so adding these changed no other value.
"""

from __future__ import annotations

from typing import Any

SITES = ("www.bbc.co.uk/news", "www.aljazeera.com/news", "news.un.org/en/story",
         "www.theguardian.com/world", "www.msf.org/syria", "www.hrw.org/news",
         "sams-usa.net/press", "medium.com/@whitehelmets")
ARTICLES = 60
SHARED_IMAGES = 20


def _pick(u: float, n: int) -> int:
    """Index in [0, n): heavy-headed (the first items are drawn far more often)."""
    return min(n - 1, int(n * u ** 2.5))


def link(sim: Any, i: int, u: Any) -> str | None:
    """The link post i shares, as written (None for most posts)."""
    if sim.kind(i) == "repost" or u(sim.seed, sim.pcode, i, 40) >= 0.3:
        return None
    a = _pick(u(sim.seed, sim.pcode, i, 41), ARTICLES)
    host, _, path = SITES[a % len(SITES)].partition("/")
    style = u(sim.seed, sim.pcode, i, 42)
    if style < 0.2:
        return f"https://{host}/{path}/aleppo-{a}?utm_source=twitter&utm_medium=social"
    if style < 0.3:
        return f"HTTPS://{host.upper()}/{path}/aleppo-{a}#comments"
    return f"https://{host}/{path}/aleppo-{a}"


def media(sim: Any, i: int, u: Any) -> list[tuple[str, str, str]]:
    """The media items of post i: [(media id, type, url)] (empty for most posts)."""
    if sim.kind(i) == "repost":
        return []
    draw = u(sim.seed, sim.pcode, i, 43)
    if draw < 0.03:
        return [(f"v{i}", "video", f"https://media.example/sim/{sim.pcode}/v{i}.mp4")]
    if draw >= 0.23:
        return []
    items = []
    for k in range(1 + int(3 * u(sim.seed, sim.pcode, i, 44) ** 3)):
        if u(sim.seed, sim.pcode, i, 45 + k) < 0.25:
            img = _pick(u(sim.seed, sim.pcode, i, 48 + k), SHARED_IMAGES)
            items.append((f"shared{img}", "photo", f"https://media.example/shared/{img}.jpg"))
        else:
            items.append((f"p{i}x{k}", "photo",
                          f"https://media.example/sim/{sim.pcode}/p{i}x{k}.jpg"))
    return items


def x_parts(sim: Any, i: int, u: Any) -> tuple[list[dict], list[str], list[dict]]:
    """X v2: entities.urls (a link and, as X writes them, one t.co link per media item),
    attachments.media_keys, includes.media."""
    urls, keys, described = [], [], []
    shared = link(sim, i, u)
    if shared:
        urls.append({"url": f"https://t.co/sim{i}", "expanded_url": shared,
                     "display_url": shared.split("://", 1)[-1][:25]})
    for mid, kind, url in media(sim, i, u):
        key = f"3_{mid}"
        keys.append(key)
        urls.append({"url": f"https://t.co/m{i}", "media_key": key,
                     "expanded_url": f"https://x.com/i/status/{sim.post_id(i)}/photo/1",
                     "display_url": f"pic.x.com/m{i}"})
        if kind == "video":
            described.append({"media_key": key, "type": "video", "width": 1280, "height": 720,
                              "preview_image_url": url.replace(".mp4", ".jpg"),
                              "variants": [{"content_type": "video/mp4", "bit_rate": 832000,
                                            "url": url}]})
        else:
            described.append({"media_key": key, "type": "photo", "url": url,
                              "width": 1200, "height": 675})
    return urls, keys, described


def mastodon_parts(sim: Any, i: int, u: Any) -> tuple[str, dict | None, list[dict]]:
    """Mastodon: an anchor for the content, a preview card (for half the links),
    media_attachments."""
    shared = link(sim, i, u)
    anchor = card = None
    if shared:
        anchor = (f' <a href="{shared.replace("&", "&amp;")}" rel="nofollow noopener" '
                  f'target="_blank">{shared.split("://", 1)[-1][:30]}</a>')
        if u(sim.seed, sim.pcode, i, 52) < 0.5:
            card = {"url": shared, "title": "Aleppo", "type": "link"}
    size = {"width": 1200, "height": 675, "size": "1200x675", "aspect": 1.78}
    attachments = [{"id": mid, "type": "image" if kind == "photo" else kind, "url": url,
                    "preview_url": url, "remote_url": None, "preview_remote_url": None,
                    "text_url": None, "description": None,
                    "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
                    "meta": {"original": size, "small": size,
                             "focus": {"x": 0.0, "y": 0.0}}}
                   for mid, kind, url in media(sim, i, u)]
    return anchor or "", card, attachments


def bluesky_parts(sim: Any, i: int, u: Any, text: str) -> tuple[list[dict], dict | None,
                                                                 dict | None, str]:
    """Bluesky: link facets, the record's embed and the view's embed (images or an external
    card, only for a post without another embed), and the text with the link."""
    shared = link(sim, i, u)
    facets: list[dict] = []
    record_embed: dict[str, Any] | None = None
    view_embed: dict[str, Any] | None = None
    if shared:
        start = len(text.encode()) + 1
        text = f"{text} {shared}"
        facets.append({"index": {"byteStart": start, "byteEnd": len(text.encode())},
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": shared}]})
    items = media(sim, i, u)
    if items and items[0][1] == "video" and sim.parent(i) is None:
        mid, _, url = items[0]
        record_embed = {"$type": "app.bsky.embed.video", "video": {"$type": "blob",
                                                                   "ref": {"$link": mid}}}
        view_embed = {"$type": "app.bsky.embed.video#view", "cid": mid, "playlist": url,
                      "thumbnail": url.replace(".mp4", ".jpg")}
    elif items and sim.parent(i) is None:
        record_embed = {"$type": "app.bsky.embed.images", "images": [
            {"alt": "", "image": {"$type": "blob", "ref": {"$link": mid}, "mimeType": "image/jpeg",
                                  "size": 180_000}} for mid, _, _ in items]}
        view_embed = {"$type": "app.bsky.embed.images#view", "images": [
            {"thumb": url, "fullsize": url, "alt": ""} for _, _, url in items]}
    elif shared and sim.parent(i) is None and u(sim.seed, sim.pcode, i, 53) < 0.5:
        record_embed = {"$type": "app.bsky.embed.external",
                        "external": {"uri": shared, "title": "Aleppo", "description": ""}}
        view_embed = {"$type": "app.bsky.embed.external#view",
                      "external": {"uri": shared, "title": "Aleppo", "description": ""}}
    return facets, record_embed, view_embed, text
