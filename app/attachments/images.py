"""Judging and re-encoding uploaded images. Only what Pillow decodes fully as JPEG, PNG or WebP
is accepted; the stored copy is a fresh encoding with no metadata (EXIF, GPS, XMP, ICC, text
chunks), orientation applied and the longest side capped."""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

from app.core.errors import PayloadTooLarge, UnsupportedMediaType

MAX_SIDE = 4096
THUMB_SIDE = 320
JPEG_QUALITY = 85
WEBP_QUALITY = 85
THUMB_QUALITY = 80

FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
EXTENSIONS = dict(FORMATS.values())

# Pillow's own bomb guard is a process-wide backstop behind our per-upload pixel check; never
# let anything loosen it, and never accept truncated files.
if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > 90_000_000:
    Image.MAX_IMAGE_PIXELS = 90_000_000
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Once, at import (catch_warnings per call is not thread-safe): a bomb warning is an error.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


@dataclass(frozen=True, slots=True)
class Encoded:
    data: bytes
    thumbnail: bytes
    content_type: str
    ext: str
    width: int
    height: int
    sha256: str


def _unsupported() -> UnsupportedMediaType:
    return UnsupportedMediaType("The file is not a complete JPEG, PNG or WebP image.")


def _too_many_pixels(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The image has more than {limit} pixels.")


def _normal_mode(im: Image.Image, fmt: str) -> Image.Image:
    has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
    if fmt == "JPEG":
        return im if im.mode in ("RGB", "L") else im.convert("RGB")
    if im.mode in ("RGB", "RGBA", "L", "LA") or (fmt == "PNG" and im.mode == "P"):
        return im
    return im.convert("RGBA" if has_alpha else "RGB")


def _encode(im: Image.Image, fmt: str, *, quality: int) -> bytes:
    # Savers fall back to info (icc_profile, exif, xmp, text chunks): keep only transparency,
    # which is pixels, not metadata.
    im.info = {k: v for k, v in im.info.items() if k == "transparency"}
    out = io.BytesIO()
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=quality, optimize=True)
    elif fmt == "PNG":
        im.save(out, "PNG", optimize=False, compress_level=6)
    else:
        im.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue()


def process(raw: bytes, *, max_pixels: int) -> Encoded:
    """Raises 415 for anything that is not a fully decodable JPEG/PNG/WebP and 413 for images
    over `max_pixels` (judged from the header, before any pixel is decoded)."""
    try:
        im = Image.open(io.BytesIO(raw), formats=list(FORMATS))  # lazy: reads the header only
        fmt = im.format or ""
        if fmt not in FORMATS:
            raise _unsupported()
        width, height = im.size
        if width < 1 or height < 1:
            raise _unsupported()
        if width * height > max_pixels:
            raise _too_many_pixels(max_pixels)
        longest = max(width, height)
        if fmt == "JPEG" and longest > MAX_SIDE:
            # DCT scaling: decode a big JPEG at 1/2, 1/4 or 1/8 size, bounding memory.
            scale = MAX_SIDE / longest
            im.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
        im.load()  # decode everything now: a truncated or corrupt file fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise _too_many_pixels(max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _unsupported() from None

    image: Image.Image = im
    try:
        if im.getexif().get(ExifTags.Base.Orientation, 1) != 1:  # else no copy is needed
            image = ImageOps.exif_transpose(im)
    except Exception:  # a malformed EXIF block: keep the pixels as they are
        pass
    image = _normal_mode(image, fmt)
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    ctype, ext = FORMATS[fmt]
    data = _encode(image, fmt, quality=JPEG_QUALITY if fmt == "JPEG" else WEBP_QUALITY)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    thumbnail = _encode(thumb, fmt, quality=THUMB_QUALITY)
    return Encoded(
        data=data,
        thumbnail=thumbnail,
        content_type=ctype,
        ext=ext,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def thumbnail_of(data: bytes, content_type: str) -> bytes:
    """A thumbnail made from a stored image (for rows stored before thumbnails were kept)."""
    fmt = next(f for f, (ct, _) in FORMATS.items() if ct == content_type)
    with Image.open(io.BytesIO(data), formats=[fmt]) as im:
        im.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        return _encode(im, fmt, quality=THUMB_QUALITY)
