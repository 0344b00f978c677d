"""The table of lines a letter prints: which columns it has and how wide each is.

WeasyPrint's automatic table layout measures every cell's text twice (its narrowest and widest
form) before it lays out a single row, which costs a 100-line document more than a third of its
render time. Letters lay out their table with fixed column widths instead, computed here from the
texts the cells will hold: each figure column (quantity, prices, rates, amounts, the service
period) as wide as its widest text (or heading), the item column the rest. Widths are estimated
from the letter font's glyph widths, generously rounded up, so a figure never wraps or overflows."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CONTENT_WIDTH_MM = 170.0  # A4 (210 mm) less the page's left and right margins (letter.css)
CELL_PADDING_MM = 2.0  # 1 mm either side (letter.css, table.lines th/td)
MM_PER_PT = 25.4 / 72
BODY_PT, HEADING_PT = 9.5, 8.5  # the cells' and the headings' font sizes (letter.css)
MAX_FIGURE_MM = 42.0  # a longer text (a long unit name, a long period) wraps rather than squeeze the item
MIN_ITEM_MM = 50.0

# Advance widths in em of DejaVu Sans, rounded up into a few classes (digits, the currency signs and
# most letters are 0.55–0.64 em wide; headings are bold, about a tenth wider); any other character
# counts as wide.
_NARROW, _MEDIUM, _WIDE = "ijlIJ .,:;'|!", "frt-/()°*", "mwMW%&—"
NARROW_EM, MEDIUM_EM, NORMAL_EM, WIDE_EM = 0.34, 0.45, 0.66, 1.0
BOLD = 1.1


@dataclass(frozen=True)
class Column:
    """One column of the table of lines: the key of its text in a line, its heading, whether it is a
    figure (right-aligned, never wrapped), and its width in mm (None: the rest of the line)."""
    key: str
    label: str
    figure: bool
    width_mm: float | None


def text_width_mm(text: str, size_pt: float) -> float:
    """How wide `text` prints in the letter font at `size_pt`, estimated on the generous side."""
    ems = sum(NARROW_EM if c in _NARROW else MEDIUM_EM if c in _MEDIUM else WIDE_EM if c in _WIDE
              else NORMAL_EM if ord(c) < 0x2000 or c in "€£–−" else WIDE_EM for c in text)
    return ems * size_pt * MM_PER_PT


def figure_width_mm(label: str, texts: Iterable[str]) -> float:
    widest = max([text_width_mm(label, HEADING_PT) * BOLD, *(text_width_mm(str(text), BODY_PT) for text in texts)])
    return round(min(widest, MAX_FIGURE_MM) + CELL_PADDING_MM + 0.3, 1)


def line_columns(lines: list[Mapping[str, object]], t: Mapping[str, str], *, period: bool = False,
                 discount: bool = True) -> list[Column]:
    """The columns of the table of lines: position, item (name, article number, description), the
    optional service date or period (`period`, each line's `period` text), quantity, unit price, the
    optional discount (`discount`), tax rate and net amount; each figure column as wide as its
    widest text, the item column the rest."""
    wanted = [("position", "pos"), ("item", "item"), ("period", "period") if period else None,
              ("quantity", "quantity"), ("unit_price", "unit_price"), ("discount", "discount") if discount else None,
              ("tax_rate", "tax"), ("net", "net")]
    columns = []
    for key, label in (pair for pair in wanted if pair is not None):
        if key == "item":
            columns.append(Column(key, t[label], False, None))
            continue
        width = figure_width_mm(t[label], (line.get(key) or "" for line in lines))
        columns.append(Column(key, t[label], key != "position" and key != "period", width))
    fixed = sum(column.width_mm or 0 for column in columns)
    if CONTENT_WIDTH_MM - fixed < MIN_ITEM_MM:  # too many wide figures: share the lack among them
        scale = (CONTENT_WIDTH_MM - MIN_ITEM_MM) / fixed
        columns = [Column(c.key, c.label, c.figure, None if c.width_mm is None else round(c.width_mm * scale, 1))
                   for c in columns]
    return columns
