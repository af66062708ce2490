"""Bar charts with no JavaScript: the numbers for an inline SVG the template draws."""

from __future__ import annotations

BAR_HEIGHT = 18
GAP = 6


def bars(rows: list[tuple[str, int]]) -> dict:
    """``[(label, value)]`` → rows with a width in percent of the largest value and a y."""
    top = max((v for _label, v in rows), default=0) or 1
    return {
        "height": len(rows) * (BAR_HEIGHT + GAP),
        "bar_height": BAR_HEIGHT,
        "rows": [{"label": str(label), "value": value, "pct": round(100 * value / top, 1),
                  "y": i * (BAR_HEIGHT + GAP), "text_y": i * (BAR_HEIGHT + GAP) + BAR_HEIGHT - 5}
                 for i, (label, value) in enumerate(rows)],
    }
