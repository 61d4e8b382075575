"""Reading an uploaded file into a grid of text cells, whatever tool or encoding produced it.

The file type is decided by its content, not its name (a council's "export.csv" is sometimes an
Excel workbook, and binary junk is sometimes named .csv). Text files are decoded by trying, in
order: a byte-order mark, strict UTF-8, strict Windows-1252 (what Excel and SmartSurvey write on
Windows, where `£` is byte 0xA3), then `charset-normalizer`'s best guess. The delimiter is
sniffed from the first rows. Every cell becomes text or None, so the rest of the pipeline has one
shape to deal with; each row keeps the row number a person sees in their spreadsheet.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hubdash.errors import IngestError
from hubdash.safety import MAX_UPLOAD_BYTES

#: Files are refused above this many data rows (a survey has hundreds; this is a runaway export).
MAX_ROWS = 200_000
#: An .xlsx whose parts unpack to more than this is refused (a "zip bomb" or not a survey).
MAX_UNZIPPED_BYTES = 400 * 1024 * 1024
#: Rows looked at when searching for the heading row below a title block.
HEADER_SEARCH_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")

_FORMULA_START = ("=", "+", "-", "@")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, or a password-protected workbook
_PARQUET_MAGIC = b"PAR1"


@dataclass
class Grid:
    """Every non-blank row of one sheet as text cells, with spreadsheet row numbers.

    Attributes:
        kind: "xlsx", "csv" or "parquet" (by content).
        cells: Rows of cells (text or None), ragged as read.
        row_numbers: The spreadsheet row number of each row (1-based, as Excel shows it).
        encoding: The text encoding used (CSV only).
        delimiter: The delimiter used (CSV only).
        sheet: The worksheet read (Excel only).
        header_given: True when the format carries its own column names (Parquet).
    """

    kind: str
    cells: list[list[str | None]]
    row_numbers: list[int]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_given: bool = False
    sheets: list[tuple[str, list[list[str | None]], list[int]]] = field(default_factory=list)


def cell_text(value: Any) -> str | None:
    """One cell as the text a person sees: numbers without a spurious `.0`, dates as ISO.

    E.g. `cell_text(12500.0)` == `"12500"`, `cell_text(datetime(2025, 9, 1))` == `"2025-09-01"`.
    """
    if value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        if s[:1] == "'" and s[1:2] in _FORMULA_START:
            s = s[1:]  # undo `safety.csv_safe`: a file exported by hubdash reads back as it was stored
        return s or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        parts = [cell_text(v) for v in value]
        return "; ".join(p for p in parts if p) or None
    try:
        if value != value:  # NaN-like values from numpy/pandas
            return None
    except (TypeError, ValueError):
        pass
    s = str(value).strip()
    return s or None


def check_size(size: int, name: str) -> None:
    """Refuse a file over `safety.MAX_UPLOAD_BYTES` before reading a byte of it."""
    if size > MAX_UPLOAD_BYTES:
        raise IngestError(
            f"{name} is {size / 1024 / 1024:.1f} MB, over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit. "
            "A survey export is normally far smaller: check it is the right file, or split it into parts.",
            title="File too large")


def read_grid(data: bytes, name: str) -> Grid:
    """Read an uploaded file's bytes into a `Grid`.

    Raises:
        IngestError: empty, over-size, damaged, binary or unsupported files, with a one-line
            reason that names the file.
    """
    check_size(len(data), name)
    if not data.strip():
        raise IngestError(f"{name} is empty: there is nothing to import. Export the survey responses again.",
                          title="Empty file")
    if data.startswith(_XLSX_MAGIC):
        return _read_xlsx(data, name)
    if data.startswith(_OLE_MAGIC):
        raise IngestError(
            f"{name} is an old-style Excel .xls file or a password-protected workbook. Open it in Excel and "
            "save it as .xlsx (without a password) or as CSV, then upload that.", title="Unsupported file type")
    if data.startswith(_PARQUET_MAGIC):
        return _read_parquet(data, name)
    if data.lstrip()[:1] in (b"{", b"[") and name.lower().endswith(".json"):
        raise IngestError(f"{name} is a JSON file. To reuse a saved column mapping, upload it as a mapping; "
                          "survey answers must be .xlsx, .csv or .parquet.", title="Unsupported file type")
    return _read_csv(data, name)


# --- Excel ---------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, name: str) -> Grid:
    import openpyxl

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
        unpacked = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise IngestError(f"{name} is damaged or incomplete (it may not have finished downloading): it cannot be "
                          "opened as an Excel workbook. Download or save it again.",
                          title="Damaged file") from e
    if "xl/workbook.xml" not in names:
        kind = "an OpenDocument (LibreOffice) spreadsheet" if "content.xml" in names else "a zip archive"
        raise IngestError(f"{name} is {kind}, not an Excel workbook. Save it as .xlsx or CSV and upload that.",
                          title="Unsupported file type")
    if unpacked > MAX_UNZIPPED_BYTES:
        raise IngestError(f"{name} unpacks to {unpacked // (1024 * 1024)} MB, far more than a survey export. "
                          "Check it is the right file.", title="File too large")
    try:
        sheets = _fast_xlsx_sheets(zf, name)
    except IngestError:
        raise
    except Exception:  # anything unusual: openpyxl reads it (slower) and words any error for the user
        sheets = None
    if sheets is not None:
        return _grid_from_sheets(sheets, name)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as e:  # openpyxl raises many types (KeyError, ValueError, zip errors) on broken files
        raise IngestError(f"{name} is damaged or incomplete: Excel parts are missing ({type(e).__name__}). "
                          "Open it in Excel and save it again, or export it again.", title="Damaged file") from e
    try:
        sheets = []
        for ws in wb.worksheets:
            cells, numbers = [], []
            try:
                for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
                    if row is None:
                        continue
                    texts = [cell_text(v) for v in row]
                    if any(t is not None for t in texts):
                        cells.append(texts)
                        numbers.append(n)
                        if len(cells) > MAX_ROWS + HEADER_SEARCH_ROWS:
                            raise IngestError(f"{name} has more than {MAX_ROWS:,} rows in sheet '{ws.title}'. "
                                              "Split it into smaller files.", title="File too large")
            except IngestError:
                raise
            except Exception as e:  # truncated XML inside the zip surfaces while iterating
                raise IngestError(f"{name} is damaged or incomplete: sheet '{ws.title}' cannot be read "
                                  f"({type(e).__name__}). Open it in Excel and save it again.",
                                  title="Damaged file") from e
            sheets.append((ws.title, cells, numbers))
    finally:
        wb.close()
    return _grid_from_sheets(sheets, name)


def _grid_from_sheets(sheets: list[tuple[str, list[list[str | None]], list[int]]], name: str) -> Grid:
    if not any(c for _, c, _ in sheets):
        raise IngestError(f"{name} has no cells with values in any sheet: there is nothing to import.",
                          title="Empty file")
    title, cells, numbers = next((s for s in sheets if s[1]), sheets[0])
    return Grid("xlsx", cells, numbers, sheet=title, sheets=sheets)


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_INT_TEXT = re.compile(r"^-?\d{1,15}$")


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _ooxml_unescape(text: str | None) -> str | None:
    """Excel writes characters XML cannot hold as `_xHHHH_` (a line break in an answer is `_x000D_`)."""
    if not text or "_x" not in text:
        return text
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _fast_xlsx_sheets(zf: zipfile.ZipFile, name: str) -> list[tuple[str, list[list[str | None]], list[int]]]:
    """Every sheet's non-blank rows, read straight from the workbook's XML with lxml.

    About three times faster than openpyxl on a large export, which matters for the 5,000-row
    target. Cells show what Excel shows: shared and inline strings, numbers, booleans, dates (by
    the cell's number format) and the last calculated value of a formula (or the formula's text,
    which is then stored as text and flagged, when the file holds no calculated value).
    """
    from lxml import etree
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    m = f"{{{_MAIN_NS}}}"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    wb = etree.fromstring(zf.read("xl/workbook.xml"), parser)
    pr = wb.find(f"{m}workbookPr")
    epoch = CALENDAR_MAC_1904 if pr is not None and pr.get("date1904") in ("1", "true") else CALENDAR_WINDOWS_1900
    rels = {r.get("Id"): r.get("Target") for r in etree.fromstring(
        zf.read("xl/_rels/workbook.xml.rels"), parser).iter(f"{{{_PKG_REL_NS}}}Relationship")}
    shared: list[str | None] = []
    if "xl/sharedStrings.xml" in zf.namelist():
        for si in etree.fromstring(zf.read("xl/sharedStrings.xml"), parser).iter(f"{m}si"):
            # Text runs only: phonetic guides (rPh) are not part of what Excel shows.
            shared.append(cell_text(_ooxml_unescape(
                "".join(t.text or "" for t in si.iter(f"{m}t") if t.getparent().tag != f"{m}rPh"))))
    date_styles: set[int] = set()
    if "xl/styles.xml" in zf.namelist():
        st = etree.fromstring(zf.read("xl/styles.xml"), parser)
        custom = {int(f.get("numFmtId")): f.get("formatCode") or "" for f in st.iter(f"{m}numFmt")}
        xfs = st.find(f"{m}cellXfs")
        for i, xf in enumerate(xfs if xfs is not None else []):
            fid = int(xf.get("numFmtId") or 0)
            code = custom.get(fid) or BUILTIN_FORMATS.get(fid) or ""
            if code and is_date_format(code):
                date_styles.add(i)
    tag_c, tag_v, tag_is, tag_f, tag_t = (f"{m}{t}" for t in ("c", "v", "is", "f", "t"))
    columns: dict[str, int] = {}
    out = []
    for sheet in wb.iter(f"{m}sheet"):
        target = rels.get(sheet.get(f"{{{_REL_NS}}}id")) or ""
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        cells: list[list[str | None]] = []
        numbers: list[int] = []
        next_row = 1
        with zf.open(path) as fh:
            for _, row in etree.iterparse(fh, events=("end",), tag=f"{m}row", resolve_entities=False,
                                          no_network=True):
                rnum = int(row.get("r") or next_row)
                next_row = rnum + 1
                values: dict[int, str | None] = {}
                pos = 0
                for c in row:
                    if c.tag != tag_c:
                        continue
                    ref = c.get("r")
                    if ref:
                        letters = ref.rstrip("0123456789")
                        col = columns.get(letters)
                        if col is None:
                            col = columns[letters] = _col_index(letters)
                    else:
                        col = pos
                    pos = col + 1
                    text = inline = formula = None
                    for ch in c:
                        if ch.tag == tag_v:
                            text = ch.text
                        elif ch.tag == tag_is:
                            inline = "".join(x.text or "" for x in ch.iter(tag_t))
                        elif ch.tag == tag_f:
                            formula = ch.text
                    t = c.get("t")
                    if t is None or t == "n":
                        if text is None or not text.strip():
                            value = None
                        elif date_styles and int(c.get("s") or 0) in date_styles:
                            value = cell_text(from_excel(float(text), epoch))
                        elif _INT_TEXT.match(text):
                            value = text.lstrip("+")
                        else:
                            value = cell_text(float(text))
                    elif t == "s":
                        value = shared[int(text)] if text is not None else None
                    elif t == "inlineStr":
                        value = cell_text(_ooxml_unescape(inline))
                    elif t in ("str", "e"):
                        value = cell_text(_ooxml_unescape(text))
                    elif t == "b":
                        value = None if text is None else ("TRUE" if text.strip() in ("1", "true") else "FALSE")
                    elif t == "d":
                        value = cell_text(text.replace("T", " ")) if text else None
                    else:
                        value = cell_text(text)
                    if value is None and formula:
                        value = "=" + formula
                    if value is not None:
                        values[col] = value
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]
                if values:
                    width = max(values) + 1
                    cells.append([values.get(i) for i in range(width)])
                    numbers.append(rnum)
                    if len(cells) > MAX_ROWS + HEADER_SEARCH_ROWS:
                        raise IngestError(f"{name} has more than {MAX_ROWS:,} rows in sheet "
                                          f"'{sheet.get('name')}'. Split it into smaller files.",
                                          title="File too large")
        out.append((sheet.get("name") or "Sheet", cells, numbers))
    return out


# --- Parquet -------------------------------------------------------------------------------------


def _read_parquet(data: bytes, name: str) -> Grid:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as e:  # pyarrow raises ArrowInvalid/OSError on truncated files
        raise IngestError(f"{name} is damaged or incomplete: it cannot be read as Parquet ({type(e).__name__}). "
                          "Export it again.", title="Damaged file") from e
    if table.num_rows > MAX_ROWS:
        raise IngestError(f"{name} has {table.num_rows:,} rows, more than {MAX_ROWS:,}. Split it into smaller files.",
                          title="File too large")
    header = [str(c) for c in table.column_names]
    columns = [[cell_text(v) for v in table.column(i).to_pylist()] for i in range(table.num_columns)]
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else []
    cells: list[list[str | None]] = [list(header)]
    numbers = [1]
    for i, r in enumerate(rows, start=2):
        if any(v is not None for v in r):
            cells.append(r)
            numbers.append(i)
    return Grid("parquet", cells, numbers, header_given=True)


# --- CSV and other delimited text -----------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding name) for a text file; IngestError if it is not text at all."""
    text: str | None = None
    encoding = ""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data.decode(enc), enc
            except UnicodeDecodeError:
                text = None
            break
    if text is None and _looks_utf16(data):
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                text, encoding = data.decode(enc), enc
                break
            except UnicodeDecodeError:
                continue
    if text is None:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text = _mixed_utf8_cp1252(data)
            encoding = "utf-8 and cp1252 (mixed)" if text is not None else ""
    if text is None:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text = None
    if text is None:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None:
            encoding = best.encoding
            text = data.decode(encoding, errors="replace")
    if text is None or _is_binary(text):
        raise IngestError(
            f"{name} is not a text (CSV) file: it contains binary data. It may be another kind of file renamed "
            "to .csv. Export the survey again as CSV or Excel.", title="Not a survey export")
    return text.lstrip("\ufeff"), encoding


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _mixed_utf8_cp1252(data: bytes) -> str | None:
    """Decode line by line when a UTF-8 file has lines pasted in from a Windows-1252 source.

    Returns None unless the file really holds UTF-8 multi-byte characters (else it is plain cp1252).
    """
    if len(_UTF8_MULTIBYTE.findall(data[:200_000])) < 3:
        return None
    out = []
    for line in data.splitlines(keepends=True):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                out.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                return None
    return "".join(out)


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4000]
    if len(sample) < 4:
        return False
    zeros_even = sample[0::2].count(0)
    zeros_odd = sample[1::2].count(0)
    half = len(sample) / 2
    return max(zeros_even, zeros_odd) > 0.4 * half and min(zeros_even, zeros_odd) < 0.05 * half


def _is_binary(text: str) -> bool:
    sample = text[:20000]
    if "\x00" in sample:
        return True
    return len(_CONTROL.findall(sample)) > max(2, len(sample) // 100)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first rows most consistently into several columns.

    E.g. `sniff_delimiter("a;b;c\\n1;2;3\\n")` == `";"`.
    """
    sample = text[:65536]
    best, best_score = ",", -1.0
    for d in DELIMITERS:
        try:
            rows = [r for _, r in zip(range(60), csv.reader(io.StringIO(sample), delimiter=d), strict=False)
                    if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if len(rows) > 1:
            rows = rows[:-1]  # the last sampled row may be cut short
        counts = [len(r) for r in rows]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        consistent = counts.count(mode) / len(counts)
        score = consistent * 100 + min(mode, 99) / 100
        if score > best_score:
            best, best_score = d, score
    return best


def _read_csv(data: bytes, name: str) -> Grid:
    text, encoding = decode_text(data, name)
    lines_offset = 0
    first = text.split("\n", 1)[0].strip().strip('"')
    delimiter = None
    if first.lower().startswith("sep=") and len(first) in (5, 6):
        # Excel's "sep=;" hint line: honour it and skip it (it is spreadsheet row 1).
        delimiter = "\t" if first[4:] in ("\\t", "") else first[4]
        text = text.split("\n", 1)[1] if "\n" in text else ""
        lines_offset = 1
    delimiter = delimiter or sniff_delimiter(text)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max(old_limit, MAX_UPLOAD_BYTES))
    cells: list[list[str | None]] = []
    numbers: list[int] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for i, row in enumerate(reader, start=1 + lines_offset):
            if not row:
                continue
            texts = [cell_text(c) for c in row]
            if any(t is not None for t in texts):
                cells.append(texts)
                numbers.append(i)
                if len(cells) > MAX_ROWS + HEADER_SEARCH_ROWS:
                    raise IngestError(f"{name} has more than {MAX_ROWS:,} rows. Split it into smaller files.",
                                      title="File too large")
    except csv.Error as e:
        raise IngestError(f"{name} cannot be read as CSV near row {len(cells) + 1}: {e}. Export it again.",
                          title="Damaged file") from e
    finally:
        csv.field_size_limit(old_limit)
    if not cells:
        raise IngestError(f"{name} has no rows with values: there is nothing to import.", title="Empty file")
    return Grid("csv", cells, numbers, encoding=encoding, delimiter=delimiter)
