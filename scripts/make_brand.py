"""Draw the integration's brand images (an original glucose drop, not Dexcom's logo).

Run with the project's venv: `.venv/bin/python scripts/make_brand.py`.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "dexcom_share" / "brand"
TEAL = (0, 150, 136, 255)
WHITE = (255, 255, 255, 255)


def drop(size: int) -> Image.Image:
    """A drop with a rising-line chart inside, on a transparent square."""
    scale = 4
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    center = big / 2
    radius = big * 0.30
    body_top = big * 0.52
    draw.ellipse(
        (center - radius, body_top - radius, center + radius, body_top + radius + big * 0.08),
        fill=TEAL,
    )
    draw.polygon(
        [
            (center, big * 0.04),
            (center - radius * 0.97, body_top),
            (center + radius * 0.97, body_top),
        ],
        fill=TEAL,
    )
    line = [
        (center - radius * 0.65, body_top + radius * 0.25),
        (center - radius * 0.25, body_top - radius * 0.10),
        (center + radius * 0.05, body_top + radius * 0.15),
        (center + radius * 0.60, body_top - radius * 0.45),
    ]
    draw.line(line, fill=WHITE, width=int(big * 0.045), joint="curve")
    dot = big * 0.035
    end_x, end_y = line[-1]
    draw.ellipse((end_x - dot, end_y - dot, end_x + dot, end_y + dot), fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int) -> Image.Image:
    """The drop beside the words 'Dexcom Share'."""
    icon = drop(height)
    font_size = int(height * 0.42)
    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
            "DejaVuSans-Bold.ttf", font_size
        )
    except OSError:
        font = ImageFont.load_default(font_size)
    text = "Dexcom Share"
    width = int(height + font.getlength(text) + height * 0.2)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.alpha_composite(icon)
    ImageDraw.Draw(image).text((height * 1.05, height / 2), text, font=font, fill=TEAL, anchor="lm")
    return image


def main() -> None:
    """Write icon.png, icon@2x.png, logo.png and logo@2x.png."""
    BRAND.mkdir(parents=True, exist_ok=True)
    drop(256).save(BRAND / "icon.png", optimize=True)
    drop(512).save(BRAND / "icon@2x.png", optimize=True)
    logo(128).save(BRAND / "logo.png", optimize=True)
    logo(256).save(BRAND / "logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()
