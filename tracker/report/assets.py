"""The Vega / Vega-Lite / vega-embed bundle, inlined into every report (no network needed)."""

from __future__ import annotations

import functools

import vl_convert


@functools.cache
def vega_bundle() -> str:
    """JavaScript that defines window.vegaEmbed; `</script` cannot appear inside it."""
    return vl_convert.javascript_bundle().replace("</script", "<\\/script")
