"""The Vega / Vega-Lite / vega-embed bundle, inlined into every report (no network needed)."""

from __future__ import annotations

import functools

import vl_convert


@functools.cache
def vega_bundle() -> str:
    """JavaScript that defines window.vegaEmbed; `</script` cannot appear inside it."""
    # The stub marks `snippet` as required; omitted, the library's default snippet defines
    # window.vegaEmbed, which the pages call.
    bundle: str = vl_convert.javascript_bundle()  # type: ignore[call-arg]
    return bundle.replace("</script", "<\\/script")
