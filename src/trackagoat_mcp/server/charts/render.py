"""Server-side rendering of a chart's Vega-Lite spec to PNG with vl-convert.

vl-convert runs the same Vega and Vega-Lite JavaScript the App carries (`apps/vendor/VERSIONS.json` pins the
versions it embeds) inside its own embedded JavaScript engine, without a browser, network or Node.js, and rasterizes
the SVG with resvg. External data is refused (`allowed_base_urls=[]`): a spec only ever carries its rows inline.

Rendering takes a few hundred milliseconds of CPU (the first call in a process also starts the engine, about a
second), so it runs in a worker thread and the event loop keeps serving other requests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import anyio

__all__ = ["PNG_SIGNATURE", "VEGA_LITE_VERSION", "Png", "png_size", "render_png"]

VEGA_LITE_VERSION = "6.4"
"""The Vega-Lite line vl-convert renders with; the App vendors the same release (see apps/vendor/VERSIONS.json)."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCALE = 1.0


@dataclass(frozen=True)
class Png:
    """A rendered chart."""

    data: bytes
    width: int
    height: int


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG from its IHDR chunk (`ValueError` if `data` is not a PNG)."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _render(spec: dict[str, Any]) -> bytes:
    # Imported at the first render, not at start: loading the Vega engine is paid by chart users only.
    import vl_convert

    data: bytes = vl_convert.vegalite_to_png(spec, vl_version=VEGA_LITE_VERSION, scale=SCALE, allowed_base_urls=[])
    return data


async def render_png(spec: dict[str, Any]) -> Png:
    """The chart as a PNG image, `spec`'s width × height pixels."""
    data = await anyio.to_thread.run_sync(_render, spec)
    width, height = png_size(data)
    return Png(data=data, width=width, height=height)
