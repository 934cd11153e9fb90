"""How large a published figure may be: one pixel limit and one byte limit, checked in one place.

A figure becomes a file of the site, and the post's first one its thumbnail and `og:image`:
a 300 KB PNG may declare 50000x50000 pixels (2.5 gigapixels a reader's browser would try to
decode), a 60 MB plot would be served whole. Every channel that publishes an image (outputs
of any raster type, SVG outputs, Markdown attachments, local images a Markdown cell shows,
data: images inside HTML outputs) asks `too_large`; a figure past a limit is left out, with
a warning naming the file, the cell and the figure, and a note (or placeholder) in its place.

Also the one table of image types (their file extensions and signatures) and of the sound and
video types an output may embed (`MEDIA_EXTENSIONS`), the names of the files a post publishes
(`file_name`, `local_name`), and the one reader of a PNG's size (`png_size`).
"""

from __future__ import annotations

import base64
import io
import re
import warnings
from pathlib import Path
from typing import BinaryIO, Final

MAX_FIGURE_BYTES: Final = 10_000_000  # 10 MB: a large photograph; plots are far smaller
MAX_FIGURE_PIXELS: Final = 40_000_000  # 40 megapixels: 8000x5000, past any screen at 2x
# A sound or video clip: a few minutes of a lecture's animation; GitHub refuses files of 100 MB
# and warns past 50 MB, and a reader would download it whole.
MAX_MEDIA_BYTES: Final = 50_000_000

# What stands in for an attachment or local image left out, so its link still leads somewhere.
PLACEHOLDER_SVG: Final = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="360" height="40" viewBox="0 0 360 40">'
    b'<rect width="360" height="40" fill="#eeeeee"/>'
    b'<text x="12" y="25" font-family="sans-serif" font-size="14" fill="#333333">'
    b"[nbpress: figure left out: too large]</text></svg>"
)


# The image types a post publishes as files, and their extensions: figure outputs
# (notebook.FIGURE_TYPES) and Markdown attachments, which may be GIFs too. In this order an
# attachment's type is chosen.
EXTENSIONS: Final = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/svg+xml": ".svg"}
# Sound and video an HTML output embeds as data: (IPython.display.Audio and Video, matplotlib's
# to_html5_video): each becomes a file of the post (the figures step), as a figure does, since
# the site's policy loads media from the site only. A type not listed is left out, with a warning.
MEDIA_EXTENSIONS: Final = {
    "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3", "audio/ogg": ".ogg", "audio/webm": ".weba", "audio/flac": ".flac",
    "video/mp4": ".mp4", "video/webm": ".webm", "video/ogg": ".ogv",
}  # fmt: skip
# The elements whose src is sound or video.
MEDIA_ELEMENTS: Final = frozenset({"audio", "video", "source"})
DATA_MEDIA: Final = re.compile(r"data:((?:audio|video)/[\w.+-]+);base64,([A-Za-z0-9+/=\s]*)\Z", re.I)


def data_media(value: str) -> tuple[str, str] | None:
    """Return (extension, base64 text) of a data: URL of sound or video of a known type, or None."""
    found = DATA_MEDIA.match(value.strip())
    extension = MEDIA_EXTENSIONS.get(found.group(1).lower()) if found else None
    return (extension, found.group(2)) if found and extension else None


# The prefixes of the names `file_name` gives: a local file is never named so (local_name).
_GENERATED: Final = ("output_", "attachment_")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# How a raster figure's bytes begin (SVG is text: outputs checks it for "<svg").
SIGNATURES: Final = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def file_name(kind: str, cell: int, number: int, mime: str) -> str:
    """Return the file name of a notebook's figure: `<kind>_<cell>_<number><ext>`.

    `kind` is "output" (a code cell's figure output) or "attachment" (a Markdown cell's);
    `cell` counts every cell of the source from 0, `number` the cell's outputs (or its
    attachments, by name) from 0. The figures step (nbpress.rendering.transform) gives these
    names once; the template and the record read them from the output's `filenames` metadata.
    """
    return f"{kind}_{cell}_{number}{EXTENSIONS[mime]}"


def local_name(parts: tuple[str, ...], taken: dict[str, bytes]) -> str:
    """Return the file name of a local file a cell shows or links (`parts`: its path in posts/).

    Its path, made safe; never a name `file_name` gives, a hidden name, or one in `taken`.
    """
    name = _SAFE_NAME.sub("_", "-".join(parts))
    if name.startswith((*_GENERATED, ".")) or name in taken:
        name = f"local-{len(taken)}-{name.lstrip('.')}"
    return name


def png_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) of PNG bytes as their header declares, None for anything else."""
    if data[:8] != SIGNATURES["image/png"] or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# Raster files a page shows, by suffix: what Pillow must be able to read for them to be published.
_RASTER_SUFFIXES = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".gif": "GIF",
    ".webp": "WebP",
    ".bmp": "BMP",
}


def unreadable(data: bytes, name: str) -> str | None:
    """Return why the image file `name` holding `data` would show as a broken image, or None.

    Empty, or a raster file (by its suffix) that Pillow cannot read whole, or an SVG file
    without an <svg> element: a download that saved an error page, a file cut short. Other
    suffixes are left to the browser.
    """
    if not data:
        return "is empty"
    suffix = Path(name).suffix.lower()
    if suffix == ".svg":
        return None if b"<svg" in data else "holds no <svg> element"
    kind = _RASTER_SUFFIXES.get(suffix)
    if kind is None:
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # the whole file, not only its header: a cut file fails here
    except Exception:  # Pillow raises many types for bytes that are no image
        return f"is not a {kind} image a browser can show (its bytes are not one, or are cut short)"
    return None


def too_large_file(path: Path) -> str | None:
    """Return why the image file `path` is too large to publish, or None; reads only its header."""
    size = path.stat().st_size
    if size > MAX_FIGURE_BYTES:
        return _bytes_problem(size)
    return _pixels_problem(path)


def too_large(data: bytes) -> str | None:
    """Return why the image `data` is too large to publish ("is 60.0 MB, over ..."), or None.

    Raster images are measured by the size their header declares (Pillow reads only the
    header, and refuses a decompression bomb itself); SVG and anything Pillow cannot read
    are measured by bytes only.
    """
    if len(data) > MAX_FIGURE_BYTES:
        return _bytes_problem(len(data))
    return _pixels_problem(io.BytesIO(data))


def media_too_large(size: int) -> str | None:
    """Return why a sound or video clip of `size` bytes is too large to publish, or None."""
    if size > MAX_MEDIA_BYTES:
        return f"is {size / 1e6:.1f} MB, over the {MAX_MEDIA_BYTES / 1e6:.0f} MB a clip may be"
    return None


def _bytes_problem(size: int) -> str:
    return f"is {size / 1e6:.1f} MB, over the {MAX_FIGURE_BYTES / 1e6:.0f} MB a figure may be"


def _pixels_problem(source: Path | BinaryIO) -> str | None:
    declared = declared_pixels(source)
    if declared is not None and declared[0] > MAX_FIGURE_PIXELS:
        return f"declares {declared[1]}, over the {MAX_FIGURE_PIXELS / 1e6:.0f} megapixels a figure may have"
    return None


_BOMB = re.compile(r"\((\d+) pixels\)")


def declared_pixels(source: Path | BinaryIO) -> tuple[int, str] | None:
    """Return (pixels, "WxH pixels") a raster image's header declares; None if Pillow cannot read it."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as image:
                width, height = image.size
                return width * height, f"{width}x{height} pixels"
        except Image.DecompressionBombError as err:  # past twice Pillow's own limit
            found = _BOMB.search(str(err))
            pixels = int(found.group(1)) if found else MAX_FIGURE_PIXELS + 1
            return pixels, f"{pixels:,} pixels"
        except Exception:  # not an image Pillow reads (SVG, text): its bytes were checked
            return None


# matplotlib's JavaScript animation player (Animation.to_jshtml; what an animation shows when
# rc animation.html is "jshtml"): its frames are images embedded in its script, which no page
# of the site runs. They become one animated PNG, looping as the player does by default.
_JS_FRAME = re.compile(r'frames\[(\d+)\] = "data:image/(?:png|jpeg);base64,((?:[A-Za-z0-9+/=]|\\\n)*)"')
_JS_INTERVAL = re.compile(r"new Animation\(frames, img_id, slider_id, ([\d.]+),")


def animation_png(html: str) -> tuple[bytes | None, str | None]:
    """Return (the animated PNG of matplotlib's animation player in `html`, None), (None, why it
    cannot be made), or (None, None) when `html` is no such player (or its frames are SVG)."""
    from PIL import Image

    frames = sorted((int(n), text) for n, text in _JS_FRAME.findall(html))
    interval = _JS_INTERVAL.search(html)
    if not frames or interval is None:
        return None, None
    images = []
    pixels = 0
    for _, text in frames:
        try:
            data = base64.b64decode(text.replace("\\\n", ""))
        except ValueError:  # binascii.Error: its padding is broken
            return None, "has a frame that is not an image"
        declared = declared_pixels(io.BytesIO(data))
        if declared is None:
            return None, "has a frame that is not an image"
        pixels += declared[0]
        if pixels > MAX_FIGURE_PIXELS:  # checked before a frame is decoded
            return None, (
                f"holds {len(frames)} frames, over the {MAX_FIGURE_PIXELS / 1e6:.0f} megapixels "
                "a figure may have"
            )
        try:
            with Image.open(io.BytesIO(data)) as image:
                images.append(image.convert("RGBA"))
        except (OSError, ValueError):  # a frame cut short: its header reads, its pixels do not
            return None, "has a frame that is not an image"
    out = io.BytesIO()
    duration = max(1, round(float(interval.group(1))))
    images[0].save(out, format="PNG", save_all=True, append_images=images[1:], duration=duration, loop=0)
    return out.getvalue(), None
