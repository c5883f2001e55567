"""Build the notice fonts: Noto Serif CJK SC (Debian's fonts-noto-cjk) subset to GB 2312, regular and bold.

Run by scripts/install.sh (the output is not committed: it is derived from the installed Debian font).
Drawing a notice with the 65,535-glyph collection costs most of its render time in HarfBuzz subsetting; a font
already cut to the 7,445 characters of GB 2312 (plus Latin, punctuation and full-width forms) renders a page in
about half the time. static/css/notice.css lists it first and the full Noto Serif CJK SC after it, so a rarer
character (names often use them: 堃, 喆, 𠮷) is drawn from the full font.

    .venv/bin/python scripts/build_notice_fonts.py [--force]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "static" / "fonts" / "notice"
SOURCES = {
    "Regular": Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    "Bold": Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
}
FAMILY = "Notice Serif CJK SC GB2312"
POSTSCRIPT = "NoticeSerifCJKsc-GB2312"


def gb2312() -> set[int]:
    """Every character of GB 2312 (rows 0xA1–0xF7, cells 0xA1–0xFE of its EUC-CN encoding)."""
    found = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes([row, cell]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def wanted() -> set[int]:
    ranges = [
        (0x20, 0x7E),  # ASCII
        (0xA0, 0xFF),  # Latin-1
        (0x2000, 0x206F),  # general punctuation
        (0x2100, 0x214F),  # letterlike (℃, №)
        (0x2150, 0x218F),  # number forms (Ⅰ Ⅱ)
        (0x2460, 0x24FF),  # circled numbers
        (0x3000, 0x303F),  # CJK symbols and punctuation (〔〕、。「」)
        (0xFF00, 0xFFEF),  # full-width forms
    ]
    return gb2312() | {c for start, end in ranges for c in range(start, end + 1)}


def face_index(path: Path, family: str = "Noto Serif CJK SC") -> int:
    collection = TTCollection(str(path), lazy=True)
    for index, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == family:
            return index
    raise SystemExit(f"{path} has no face named {family}")


def build(style: str, source: Path, out: Path) -> None:
    options = subset.Options()
    options.font_number = face_index(source)
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted())
    subsetter.subset(font)
    # A family of its own: fontconfig must not take it for the full font when looking for a rare character.
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID == 4:
            record.string = f"{FAMILY} {style}"
        elif record.nameID == 6:
            record.string = f"{POSTSCRIPT}-{style}"
    if "CFF " in font:
        font["CFF "].cff.fontNames = [f"{POSTSCRIPT}-{style}"]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    subset.save_font(font, str(tmp), options)
    tmp.replace(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the fonts are up to date")
    args = parser.parse_args()
    for style, source in SOURCES.items():
        if not source.exists():
            print(f"missing {source} (Debian package fonts-noto-cjk)", file=sys.stderr)
            return 1
        out = OUT_DIR / f"{POSTSCRIPT}-{style}.otf"
        if (
            args.force
            or not out.exists()
            or out.stat().st_mtime < max(source.stat().st_mtime, Path(__file__).stat().st_mtime)
        ):
            build(style, source, out)
            print(f"built {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
