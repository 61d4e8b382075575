"""Neutralising untrusted text on the way out (spreadsheet formulas) and in (size limits)."""

from __future__ import annotations

from typing import Any

#: Characters that make Excel, LibreOffice or Google Sheets treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The largest upload accepted, in bytes.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024


def csv_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, prefixed with an apostrophe.

    Numbers pass through unchanged, so a negative number stays a number.
    E.g. `csv_safe("=HYPERLINK(...)")` == `"'=HYPERLINK(...)"`.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
