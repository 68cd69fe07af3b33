"""Rows of measured numbers as a fixed-width text table and as CSV, for every evaluation binary."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence


def format_table(rows: Sequence[dict], label: str | None = None) -> str:
    """A fixed-width text table of evaluation rows."""
    if not rows:
        return ""
    columns = (["model"] if label else []) + list(rows[0])
    lines = ["  ".join(f"{c:>14}" for c in columns)]
    for row in rows:
        cells = ([label] if label else []) + [_cell(row[c]) for c in rows[0]]
        lines.append("  ".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def _cell(value) -> str:
    return f"{value:.5g}" if isinstance(value, int | float) else str(value)


def rows_to_csv(rows_by_model: dict[str, list[dict]]) -> str:
    """CSV text with one line per (model, row); columns are the union of the rows' keys."""
    fieldnames = ["model"]
    for rows in rows_by_model.values():
        for row in rows:
            fieldnames += [key for key in row if key not in fieldnames]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    for label, rows in rows_by_model.items():
        for row in rows:
            writer.writerow({"model": label, **row})
    return buffer.getvalue()
