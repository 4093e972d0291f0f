"""Checking an uploaded logo: a PNG, JPEG or SVG image of bounded size, read from its bytes (the
name and the type the browser claims prove nothing).

PNG and JPEG are recognised by their signatures and their dimensions read from their headers;
an SVG is XML that a browser would run scripts from if let, so it must hold no script, no event
attribute, no foreign content, no DTD (entity tricks) and no reference outside itself.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass

MAX_BYTES = 512 * 1024
MAX_SIDE = 4000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"
# SVG elements that can carry code or pull in other documents.
FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
HREF = re.compile(r"(^|})href$")


class ImageError(ValueError):
    """The file is not an acceptable logo; the message says why."""


@dataclass(frozen=True)
class Image:
    content_type: str
    width: int | None
    height: int | None


def check_image(data: bytes) -> Image:
    """What ``data`` is, or :class:`ImageError`."""
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImageError(f"The file is {len(data) // 1024} KB; a logo may be at most {MAX_BYTES // 1024} KB.")
    if data.startswith(PNG_SIGNATURE):
        image = _png(data)
    elif data.startswith(b"\xff\xd8\xff"):
        image = _jpeg(data)
    elif _looks_like_xml(data):
        image = _svg(data)
    else:
        raise ImageError("This is not a PNG, JPEG or SVG image.")
    for side in (image.width, image.height):
        if side is not None and not 0 < side <= MAX_SIDE:
            raise ImageError(f"The image is {image.width}×{image.height} pixels; each side must be 1 to "
                             f"{MAX_SIDE}.")
    return image


def _png(data: bytes) -> Image:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageError("The PNG file is damaged (no image header).")
    width, height = struct.unpack(">II", data[16:24])
    return Image("image/png", width, height)


def _jpeg(data: bytes) -> Image:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ImageError("The JPEG file is damaged.")
        marker = data[position + 1]
        if marker == 0xFF:  # padding
            position += 1
            continue
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        # Start-of-frame markers carry the size (not DHT C4, JPG C8, DAC CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if position + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return Image("image/jpeg", width, height)
        position += 2 + length
    raise ImageError("The JPEG file is damaged (no frame header).")


def _looks_like_xml(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def _svg(data: bytes) -> Image:
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise ImageError("The SVG file declares a DTD or entities; save it without them.")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ImageError(f"The SVG file is not well-formed XML ({exc}).") from None
    if root.tag not in (f"{SVG_NS}svg", "svg"):
        raise ImageError("This XML file is not an SVG image.")
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1].lower()
        if name in FORBIDDEN_ELEMENTS:
            raise ImageError(f"The SVG file contains a <{name}> element; a logo may not run code or embed pages.")
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise ImageError(f"The SVG file has an event attribute ({local}); a logo may not run code.")
            if HREF.search(attribute) and not (value.startswith("#") or value.startswith("data:image/")):
                raise ImageError(f"The SVG file refers to {value[:60]!r}; a logo must hold everything it shows.")
        if name == "style" and re.search(r"url\(\s*['\"]?(?!#|data:image/)", element.text or "", re.IGNORECASE):
            raise ImageError("The SVG file's style loads something from elsewhere; a logo must hold everything.")
    return Image("image/svg+xml", _length(root.get("width")), _length(root.get("height")))


def _length(value: str | None) -> int | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(px)?\s*", value or "")
    return round(float(match.group(1))) if match else None
