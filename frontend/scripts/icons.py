"""Draws the app icons (PNG) into frontend/public/icons: `python frontend/scripts/icons.py`.
A plain, high-contrast mark: a footprint-like pin (the gemba walk) on the theme colour."""

from pathlib import Path

from PIL import Image, ImageDraw

THEME = (11, 93, 75)
WHITE = (255, 255, 255)
OUT = Path(__file__).resolve().parents[1] / "public" / "icons"


def draw(size: int, *, safe: float) -> Image.Image:
    img = Image.new("RGB", (size, size), THEME)
    d = ImageDraw.Draw(img)
    s = size * safe  # the drawing lives in the central `safe` fraction (maskable safe zone)
    cx, cy = size / 2, size / 2
    r = s * 0.30
    # a location pin: circle on top of a triangle
    d.polygon(
        [(cx - r * 0.92, cy - r * 0.25), (cx + r * 0.92, cy - r * 0.25), (cx, cy + r * 1.45)],
        fill=WHITE,
    )
    d.ellipse([cx - r, cy - r * 1.35, cx + r, cy + r * 0.65], fill=WHITE)
    ri = r * 0.42
    d.ellipse([cx - ri, cy - r * 0.35 - ri, cx + ri, cy - r * 0.35 + ri], fill=THEME)
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    draw(192, safe=1.0).save(OUT / "icon-192.png", optimize=True)
    draw(512, safe=1.0).save(OUT / "icon-512.png", optimize=True)
    draw(512, safe=0.8).save(OUT / "maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
