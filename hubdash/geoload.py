"""Loading real geography: ward boundaries, population needs, postcodes, sites and population points.

Every loader reads a file the user chose (a path or uploaded bytes), checks it completely, and
only then writes, in ONE `Store.write()` transaction: a bad file raises `GeoError` with a message
naming the file, field or row and what to do, and leaves the store exactly as it was.

Boundaries may be GeoJSON, GeoPackage or a zipped Shapefile, in any coordinate reference system:
they are reprojected to longitude/latitude (EPSG:4326). A file with no CRS is recognised from its
coordinates (British National Grid metres or longitude/latitude) and the guess is reported.
Invalid polygons are made valid (`shapely.make_valid`) and listed. The stored geometry is the
file's own; a simplified copy (shared borders kept shared, `shapely.coverage_simplify`) is
stored beside it for display, so a map of 7,681 wards ships a few MB rather than 30.

Needs tables may be long (ward, indicator, value, unit, period, source) or wide (one column per
indicator), keyed by ward code or name. Keys that match no ward (or several) are returned and
shown, never dropped silently. Helpers derive needs from the ONS files many teams already have
(Census 2021 single year of age and ethnic group, IoD2019 by LSOA with a LSOA-to-ward lookup).
"""

from __future__ import annotations

import io
import json
import math
import re
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hubdash import schema
from hubdash.errors import GeoError
from hubdash.geo import BNG, WGS84
from hubdash.schema import normalise
from hubdash.store import Store

Source = str | Path | bytes | Any  # a path, raw bytes, or a file-like object with .read() (an upload)

#: The largest boundary file accepted from the browser (the CLI has no limit). Bigger than the
#: survey limit because national boundary files are large; 30 MB holds every ward in England.
MAX_GEO_UPLOAD_BYTES = 120 * 1024 * 1024
#: Total vertices the display copy of a boundary set may have: keeps the map payload a few MB.
DISPLAY_VERTEX_BUDGET = 150_000
#: Display tolerances tried in turn (degrees; 0.0002 is about 15-20 m in England).
DISPLAY_LADDER = (0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.008, 0.012)
GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
SITE_KINDS = {"site": "Delivery site", "family_hub": "Family hub"}

_GSS = re.compile(r"^[EWSNK]\d{8}$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


# --- reading files -----------------------------------------------------------------------------


def _bytes_and_name(source: Source, filename: str | None) -> tuple[bytes | None, Path | None, str]:
    """(raw bytes or None, path or None, display name) for a path, bytes or an upload."""
    if isinstance(source, str | Path):
        p = Path(source)
        if not p.is_file():
            raise GeoError(f"{p} does not exist or is not a file. Check the path and try again.",
                           title="File not found")
        return None, p, filename or p.name
    if isinstance(source, bytes | bytearray):
        return bytes(source), None, filename or "uploaded file"
    if hasattr(source, "read"):
        data = source.read()
        return data, None, filename or getattr(source, "name", "uploaded file")
    raise TypeError(f"cannot read {type(source).__name__}")


def _read_bytes(source: Source, filename: str | None) -> tuple[bytes, str]:
    data, path, name = _bytes_and_name(source, filename)
    return (path.read_bytes() if path is not None else data), name


def _decode(data: bytes, name: str) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise GeoError(f"{name} is not a text file a spreadsheet could have saved. Save it as CSV "
                       "(UTF-8) or XLSX and try again.", title="This table could not be read")
    return str(best)


def _raw_table(data: bytes, name: str) -> pd.DataFrame:
    """Every cell as text, no header applied: CSV (any common delimiter) or the first useful sheet."""
    suffix = Path(name).suffix.lower()
    if data[:2] == b"PK" and suffix not in (".xlsx", ".xlsm"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            inner = [i for i in z.infolist() if i.filename.lower().endswith((".csv", ".txt")) and not i.is_dir()]
            if not inner:
                raise GeoError(f"{name} is a zip file with no CSV inside. Upload the CSV itself.",
                               title="This table could not be read")
            biggest = max(inner, key=lambda i: i.file_size)
            return _raw_table(z.read(biggest), biggest.filename)
    if suffix in (".xlsx", ".xlsm") or data[:2] == b"PK":
        try:
            sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, dtype=object)
        except Exception as e:  # openpyxl raises many types for a damaged workbook
            raise GeoError(f"{name} could not be opened as an Excel workbook ({type(e).__name__}). "
                           "Open it in Excel and save it again as .xlsx or CSV.",
                           title="This table could not be read") from e
        sheets = {k: v.dropna(how="all").dropna(axis=1, how="all") for k, v in sheets.items()}
        useful = [v for v in sheets.values() if v.shape[0] >= 2 and v.shape[1] >= 2]
        if not useful:
            raise GeoError(f"{name} has no sheet with a header row and data.", title="This table could not be read")
        return useful[0].astype(object).where(useful[0].notna(), "").astype(str).reset_index(drop=True)
    if suffix in GEO_SUFFIXES[:3]:
        raise GeoError(f"{name} looks like a geography file, not a table. Load it as boundaries instead.",
                       title="This table could not be read")
    text = _decode(data, name)
    sample = text[:8192]
    import csv

    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                          skip_blank_lines=True, engine="c", on_bad_lines="error")
    except Exception as e:  # pandas' parser errors are several types
        raise GeoError(f"{name} could not be read as a table ({e}). Save it as CSV or XLSX.",
                       title="This table could not be read") from e
    return raw


def _with_header(raw: pd.DataFrame, is_header: Callable[[list[str]], bool], name: str, what: str) -> pd.DataFrame:
    """Use the first of the top 20 rows that `is_header` accepts as the header (title rows skipped)."""
    for i in range(min(20, len(raw))):
        cells = [str(c).strip() for c in raw.iloc[i].tolist()]
        if is_header(cells):
            body = raw.iloc[i + 1:].reset_index(drop=True)
            cols, seen = [], set()
            for j, c in enumerate(cells):
                c = c or f"column {j + 1}"
                while c in seen:
                    c += "_"
                seen.add(c)
                cols.append(c)
            body.columns = cols
            body = body[[c for c in cols if not c.startswith("column ")] or cols]
            body.attrs["header_row"] = i + 1
            return body.replace("", None).dropna(how="all").reset_index(drop=True)
    raise GeoError(f"{name}: no header row naming {what} in the first 20 rows.", title="This table could not be read")


def read_table(source: Source, *, filename: str | None = None,
               is_header: Callable[[list[str]], bool] | None = None, what: str = "the columns") -> pd.DataFrame:
    """A CSV or XLSX file as text columns, with title rows above the header skipped.

    Args:
        source: A path, bytes or an uploaded file.
        filename: The name to use in messages (and to tell CSV from XLSX for bytes).
        is_header: Accepts a candidate header row (list of cell texts); default: the first row.
        what: How to describe the expected header in an error message.

    `attrs["header_row"]` holds the 1-based row of the header, so later messages can name rows
    as the user sees them in the spreadsheet.
    """
    data, name = _read_bytes(source, filename)
    if not data.strip():
        raise GeoError(f"{name} is empty.", title="This table could not be read")
    raw = _raw_table(data, name)
    if raw.empty:
        raise GeoError(f"{name} has no rows.", title="This table could not be read")
    out = _with_header(raw, is_header or (lambda cells: sum(bool(c) for c in cells) >= 2), name, what)
    out.attrs["name"] = name
    return out


# --- boundaries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSuggestion:
    """The fields of a boundary file and the best guesses for code, name and locality."""

    fields: list[str]
    code: str | None
    name: str | None
    locality: str | None
    samples: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class BoundaryFile:
    """A boundary file read, reprojected to lon/lat and made valid, not yet stored."""

    frame: gpd.GeoDataFrame
    name: str
    crs_note: str
    repaired: list[str]
    suggestion: FieldSuggestion


@dataclass
class BoundaryReport:
    """What `load_boundaries` did: counts and notes to show the user."""

    wards: int
    code_field: str
    name_field: str
    locality_field: str | None
    crs_note: str
    repaired: list[str]
    merged: list[str]
    display_tolerance: float
    display_bytes: int
    orphan_needs: list[str]
    unmatched_answers: list[str]
    sites_in_wards: int
    points_in_wards: int
    seconds: float
    backup: str | None = None

    def lines(self) -> list[str]:
        """Plain-English sentences for the page and the command line."""
        out = [f"Loaded {self.wards:,} areas (code from {self.code_field}, name from {self.name_field}"
               + (f", locality from {self.locality_field}" if self.locality_field else "") + ").",
               self.crs_note]
        if self.repaired:
            out.append(f"Repaired invalid geometry for {len(self.repaired)} area(s): {_few(self.repaired)}.")
        if self.merged:
            out.append(f"Joined the parts of {len(self.merged)} area(s) given on several rows: {_few(self.merged)}.")
        if self.orphan_needs:
            out.append(f"Needs figures for {len(self.orphan_needs)} ward code(s) match none of these areas and are "
                       f"not mapped: {_few(self.orphan_needs)}. Load needs keyed on the new codes.")
        if self.unmatched_answers:
            out.append(f"{len(self.unmatched_answers)} ward answer(s) in the survey match none of these areas: "
                       f"{_few(self.unmatched_answers)}. See Data quality.")
        return out


def _few(items: Sequence[str], n: int = 6) -> str:
    items = list(items)
    return ", ".join(map(str, items[:n])) + (f" and {len(items) - n} more" if len(items) > n else "")


def _open_geo(data: bytes | None, path: Path | None, name: str) -> gpd.GeoDataFrame:
    """Read the first polygon layer of a GeoJSON, GeoPackage or zipped Shapefile."""
    import pyogrio

    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        if path is None:
            if not data:
                raise GeoError(f"{name} is empty.")
            path = Path(tmp) / f"upload{suffix or '.bin'}"
            path.write_bytes(data)
        target = str(path)
        with path.open("rb") as fh:
            head = fh.read(4)
        if suffix == ".shp":
            raise GeoError(f"{name} is only one part of a Shapefile. Put the .shp, .shx, .dbf and .prj files in "
                           "one .zip and load that.")
        if suffix in TABLE_SUFFIXES and head[:2] != b"PK":
            raise GeoError(f"{name} is a table, not a geography file. Load boundaries as GeoJSON, GeoPackage or a "
                           "zipped Shapefile; load tables of figures under Needs.")
        if head[:2] == b"PK":
            try:
                with zipfile.ZipFile(path) as z:
                    names = [n for n in z.namelist() if not n.endswith("/") and "__MACOSX" not in n]
            except zipfile.BadZipFile as e:
                raise GeoError(f"{name} is a damaged zip file. Zip the files again and retry.") from e
            shps = [n for n in names if n.lower().endswith(".shp")]
            others = [n for n in names if n.lower().endswith((".gpkg", ".geojson", ".json"))]
            if len(shps) > 1:
                raise GeoError(f"{name} holds {len(shps)} Shapefiles ({_few(shps)}). Zip just the one with the "
                               "ward boundaries.")
            if shps:
                stem = shps[0][:-4]
                missing = [ext for ext in (".shx", ".dbf") if not any(n.lower() == (stem + ext).lower() for n in names)]
                if missing:
                    raise GeoError(f"{name}: the Shapefile {shps[0]} is missing its {', '.join(missing)} file. Zip "
                                   "all its parts (.shp, .shx, .dbf, .prj) together.")
                target = f"/vsizip/{path}/{shps[0]}"
            elif len(others) == 1:
                target = f"/vsizip/{path}/{others[0]}"
            else:
                raise GeoError(f"{name} is a zip file with no Shapefile, GeoPackage or GeoJSON inside"
                               + (f" (it holds {_few(names)})." if names else "."))
        try:
            layers = pyogrio.list_layers(target)
            if len(layers) == 0:
                raise GeoError(f"{name} holds no map layers.")
            polygonal = [str(n) for n, t in layers if t is None or "POLYGON" in str(t).upper()]
            layer = polygonal[0] if polygonal else str(layers[0][0])
            gdf = gpd.read_file(target, layer=layer, engine="pyogrio")
        except GeoError:
            raise
        except Exception as e:  # pyogrio/GDAL raise DataSourceError, OSError, ValueError...
            reason = str(e).splitlines()[0].replace(str(path), name).replace(target, name)[:160]
            raise GeoError(f"{name} could not be read as geography ({reason}). Load a GeoJSON, GeoPackage or "
                           "zipped Shapefile exported from your GIS.") from e
    return gdf


def _wkb_geoms(blobs: Sequence[Any]) -> np.ndarray:
    """Geometries from WKB as DuckDB returns it (bytearray)."""
    return shapely.from_wkb(np.array([bytes(b) if b is not None else None for b in blobs], dtype=object))


def _claim(cur: Any) -> None:
    """Mark a database holding the user's own geography as not demo data.

    `open_store` only builds the demo in a file that did not exist; the mark also keeps the
    "fictional demo" label off pages showing the user's own wards.
    """
    cur.execute("INSERT INTO meta VALUES ('demo', '0') ON CONFLICT DO NOTHING")


def _looks_lonlat(b: np.ndarray) -> bool:
    return bool(-180 <= b[0] <= 180 and -180 <= b[2] <= 180 and -90 <= b[1] <= 90 and -90 <= b[3] <= 90)


def _looks_bng(b: np.ndarray) -> bool:
    return bool(-1000 <= b[0] and b[2] <= 800_000 and -1000 <= b[1] and b[3] <= 1_300_000
                and max(abs(b[2]), abs(b[3])) > 1000)


def _fmt_bounds(b: np.ndarray) -> str:
    return f"x {b[0]:,.4g} to {b[2]:,.4g}, y {b[1]:,.4g} to {b[3]:,.4g}"


def _to_wgs84(gdf: gpd.GeoDataFrame, name: str) -> tuple[gpd.GeoDataFrame, str]:
    """Reproject to EPSG:4326, recognising a missing CRS from the coordinates; refuse a wrong one."""
    b = np.asarray(gdf.total_bounds, dtype=float)
    if not np.isfinite(b).all():
        raise GeoError(f"{name} has no usable coordinates.")
    if gdf.crs is None:
        if _looks_lonlat(b):
            gdf = gdf.set_crs(WGS84)
            note = ("The file names no coordinate system; its coordinates look like longitude/latitude, so they "
                    "were read as EPSG:4326.")
        elif _looks_bng(b):
            gdf = gdf.set_crs(BNG).to_crs(WGS84)
            note = ("The file names no coordinate system; its coordinates look like British National Grid metres, "
                    "so they were read as EPSG:27700 and converted to longitude/latitude.")
        else:
            raise GeoError(f"{name} names no coordinate system, and its coordinates ({_fmt_bounds(b)}) are neither "
                           "longitude/latitude nor British National Grid metres. Export it again from your GIS with "
                           "its coordinate system (a .prj file for a Shapefile), e.g. EPSG:27700.")
    else:
        crs = gdf.crs
        label = f"{crs.name} (EPSG:{crs.to_epsg()})" if crs.to_epsg() else crs.name
        if crs.is_geographic and not _looks_lonlat(b):
            hint = " They look like British National Grid metres: set the layer's CRS to EPSG:27700." \
                if _looks_bng(b) else ""
            raise GeoError(f"{name} says its coordinates are longitude/latitude ({label}) but they run "
                           f"{_fmt_bounds(b)}, which cannot be degrees.{hint} Fix the coordinate system in your GIS "
                           "and export again.", title="Wrong coordinate system")
        try:
            projected = gdf.to_crs(WGS84)
        except Exception as e:  # pyproj errors
            raise GeoError(f"{name}: its coordinate system {label} could not be converted to longitude/latitude "
                           f"({e}).", title="Wrong coordinate system") from e
        area = crs.area_of_use
        b2 = np.asarray(projected.total_bounds, dtype=float)
        if area is not None and np.isfinite(b2).all() and not (
                b2[0] <= area.east + 1 and b2[2] >= area.west - 1 and b2[1] <= area.north + 1 and b2[3] >= area.south - 1):
            raise GeoError(f"{name}: its coordinates ({_fmt_bounds(b)}) lie outside the area {label} covers "
                           f"({area.name}), so the coordinate system in the file is wrong. Fix it in your GIS and "
                           "export again.", title="Wrong coordinate system")
        gdf = projected
        note = "Coordinates were already longitude/latitude (EPSG:4326)." if crs.to_epsg() == 4326 else \
            f"Converted from {label} to longitude/latitude."
    b2 = np.asarray(gdf.total_bounds, dtype=float)
    if not (np.isfinite(b2).all() and _looks_lonlat(b2)):
        raise GeoError(f"{name}: after conversion to longitude/latitude the coordinates run {_fmt_bounds(b2)}, "
                       "outside the globe. The file's coordinate system is wrong: fix it in your GIS and export "
                       "again.", title="Wrong coordinate system")
    if 48 <= b2[0] <= 62 and 48 <= b2[2] <= 62 and -10 <= b2[1] <= 3 and -10 <= b2[3] <= 3:
        raise GeoError(f"{name}: the coordinates look like latitude/longitude in the wrong order (x {b2[0]:.2f} to "
                       f"{b2[2]:.2f} looks like latitude in Britain). Export with longitude first.",
                       title="Wrong coordinate system")
    return gdf, note


def _polygonal(g: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygon part of a geometry (make_valid can return collections with stray lines)."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        polys = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
        if not polys:
            return None
        return shapely.union_all(polys)
    return None


def _row_label(frame: pd.DataFrame, i: int, code_field: str | None) -> str:
    if code_field and code_field in frame.columns:
        v = frame[code_field].iloc[i]
        if v is not None and str(v).strip():
            return str(v)
    return f"feature {i + 1}"


def _check_geometry(gdf: gpd.GeoDataFrame, name: str, *, repair: bool, label_field: str | None,
                    allow: tuple[str, ...] = ("Polygon", "MultiPolygon")) -> tuple[gpd.GeoDataFrame, list[str]]:
    geoms = gdf.geometry.values
    missing = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(missing) == len(gdf):
        raise GeoError(f"{name} has no geometry in any of its {len(gdf):,} rows.")
    if len(missing):
        raise GeoError(f"{name}: {len(missing)} row(s) have no geometry ({_few([_row_label(gdf, i, label_field) for i in missing])}). "
                       "Delete those rows or fix them in your GIS, then load again.")
    types = pd.Series(shapely.get_type_id(geoms)).map(
        {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
         6: "MultiPolygon", 7: "GeometryCollection"})
    wrong = types[~types.isin([*allow, "GeometryCollection"])]
    if len(wrong):
        kinds = ", ".join(sorted(set(wrong)))
        what = "areas (polygons)" if "Polygon" in allow else "points"
        raise GeoError(f"{name} holds {kinds} geometry ({len(wrong):,} of {len(gdf):,} rows), not {what}. "
                       + ("Boundaries must be areas; delivery sites go under Sites." if "Polygon" in allow else ""))
    if "Polygon" not in allow:
        return gdf, []
    invalid = np.flatnonzero(~shapely.is_valid(geoms) | (types == "GeometryCollection").to_numpy())
    repaired: list[str] = []
    if len(invalid):
        labels = [_row_label(gdf, i, label_field) for i in invalid]
        if not repair:
            reasons = [shapely.is_valid_reason(geoms[i]) for i in invalid[:3]]
            raise GeoError(f"{name}: {len(invalid)} area(s) have invalid geometry ({_few(labels)}; e.g. "
                           f"{'; '.join(reasons)}). Load again with repair on, or fix them in your GIS.",
                           title="Invalid geometry")
        fixed = [_polygonal(shapely.make_valid(geoms[i])) for i in invalid]
        lost = [lab for lab, g in zip(labels, fixed, strict=True) if g is None]
        if lost:
            raise GeoError(f"{name}: the geometry of {_few(lost)} is broken beyond repair (no area left after making "
                           "it valid). Fix it in your GIS and load again.", title="Invalid geometry")
        geoms = geoms.copy()
        for i, g in zip(invalid, fixed, strict=True):
            geoms[i] = g
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
        repaired = labels
    return gdf, repaired


def suggest_fields(frame: pd.DataFrame) -> FieldSuggestion:
    """Best guesses for the code, name and locality fields of a boundary file.

    Codes: a field whose values are all different, preferring ONS-style names (`WD23CD`) and
    values (`E05015186`) and ward over district fields. Names: the matching `..NM` field, else
    one called name. Locality: a district-level field (`LAD23NM`) with fewer values than rows.
    """
    cols = [c for c in frame.columns if c != getattr(frame, "geometry", pd.Series()).name and c != "geometry"]
    n = len(frame)

    def text(c: str) -> pd.Series:
        return frame[c].astype(str).str.strip()

    samples = {c: text(c).head(3).tolist() for c in cols}
    code_scores: dict[str, float] = {}
    for c in cols:
        vals = text(c)
        if n == 0 or vals.eq("").any() or vals.nunique() != n:
            continue
        k = c.lower()
        s = 0.0
        s += 3 if re.fullmatch(r"[a-z]{2,6}\d{0,2}cd", k) or k.endswith(("code", "_cd", "_id")) else 0
        s += 3 * vals.str.fullmatch(_GSS.pattern).mean()
        s += 2 if k.startswith(("wd", "ward")) else 0
        s += 1 if k.startswith(("lsoa", "msoa", "oa", "ed", "div")) else 0
        s -= 2 if k in ("fid", "objectid", "id", "ogc_fid") else 0
        code_scores[c] = s
    code = max(code_scores, key=lambda c: code_scores[c]) if code_scores and max(code_scores.values()) > 0 else None

    name_scores: dict[str, float] = {}
    for c in cols:
        if c == code:
            continue
        k = c.lower()
        vals = text(c)
        if vals.str.fullmatch(r"[-0-9.eE]+").mean() > 0.5:
            continue
        s = 0.0
        s += 3 if k.endswith(("nm", "name", "_nm")) or k in ("name", "ward", "ward_name") else 0
        if code and code.lower().endswith("cd") and k == code.lower()[:-2] + "nm":
            s += 4
        s += 1 if vals.nunique() > 0.8 * n else -1
        s += 1 if k.startswith(("wd", "ward")) else 0
        s -= 3 if k.endswith("w") else 0  # ONS's Welsh-language name columns (WD23NMW)
        name_scores[c] = s
    name = max(name_scores, key=lambda c: name_scores[c]) if name_scores and max(name_scores.values()) > 0 else None

    loc_scores: dict[str, float] = {}
    for c in cols:
        if c in (code, name):
            continue
        k = c.lower()
        nun = text(c).nunique()
        if not 2 <= nun < n:
            continue
        s = 0.0
        s += 3 if k.startswith(("lad", "lau", "ltla", "district", "locality", "cty", "utla")) else 0
        s += 1 if k.endswith(("nm", "name")) else 0
        s -= 3 if k.endswith("w") else 0
        if s > 0:
            loc_scores[c] = s
    loc = max(loc_scores, key=lambda c: loc_scores[c]) if loc_scores else None
    return FieldSuggestion(fields=cols, code=code, name=name, locality=loc, samples=samples)


def read_boundaries(source: Source, *, filename: str | None = None, repair: bool = True) -> BoundaryFile:
    """Read a boundary file: reprojected to lon/lat, polygons only, invalid geometry repaired.

    Args:
        source: A path, bytes or an uploaded file (GeoJSON, GeoPackage or zipped Shapefile).
        filename: The name to use in messages and to tell formats apart for bytes.
        repair: Make invalid polygons valid and report them; with False, refuse them instead.

    Raises:
        GeoError: not geography, empty, no or wrong coordinate system, not polygons, broken geometry.
    """
    data, path, name = _bytes_and_name(source, filename)
    if data is not None and len(data) > MAX_GEO_UPLOAD_BYTES:
        raise GeoError(f"{name} is {len(data) / 1e6:.0f} MB; the limit in the app is "
                       f"{MAX_GEO_UPLOAD_BYTES / 1e6:.0f} MB. Use `python -m hubdash load-wards` for bigger files.")
    gdf = _open_geo(data, path, name)
    if len(gdf) == 0:
        raise GeoError(f"{name} holds no areas (0 features).")
    if gdf.geometry.isna().all():
        raise GeoError(f"{name} has no geometry: it may be a table saved as {Path(name).suffix}.")
    suggestion = suggest_fields(gdf)
    gdf, repaired = _check_geometry(gdf, name, repair=repair, label_field=suggestion.code)
    gdf, note = _to_wgs84(gdf, name)
    return BoundaryFile(frame=gdf, name=name, crs_note=note, repaired=repaired, suggestion=suggestion)


def _areas_km2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Areas in km²: British National Grid inside Great Britain, else a local UTM zone."""
    b = geoms.total_bounds
    crs = BNG if (-9 <= b[0] and b[2] <= 3 and 49 <= b[1] and b[3] <= 61) else geoms.estimate_utm_crs()
    return (geoms.to_crs(crs).area / 1e6).to_numpy()


def display_geometries(geoms: Sequence[shapely.Geometry] | np.ndarray, *,
                       budget: int = DISPLAY_VERTEX_BUDGET) -> tuple[list[str], float]:
    """Simplified GeoJSON geometry texts for maps, and the tolerance used (degrees).

    The tolerance is the smallest on `DISPLAY_LADDER` that brings the whole set under `budget`
    vertices, so 21 wards keep ~15 m detail and all of England's wards stay a few MB.
    `coverage_simplify` simplifies shared borders once, so neighbours never gap or overlap.
    Coordinates are rounded to the precision the tolerance leaves meaningful.
    """
    arr = np.asarray(geoms, dtype=object)
    if len(arr) == 0:
        return [], DISPLAY_LADDER[0]
    total = int(shapely.get_num_coordinates(arr).sum())
    # Estimate on a sample (a subset of a coverage is a coverage), then simplify once.
    rng = np.random.default_rng(0)
    sample = arr if len(arr) <= 600 else arr[rng.choice(len(arr), 600, replace=False)]
    scale = len(arr) / len(sample)
    tol = DISPLAY_LADDER[-1]
    for t in DISPLAY_LADDER:
        if total <= budget or shapely.get_num_coordinates(shapely.coverage_simplify(sample, t)).sum() * scale <= budget:
            tol = t
            break
    simple = shapely.coverage_simplify(arr, tol)
    bad = shapely.is_empty(simple) | ~shapely.is_valid(simple)
    if bad.any():  # input that is not a clean coverage: fall back per area
        simple[bad] = shapely.simplify(arr[bad], tol, preserve_topology=True)
    decimals = 5 if tol < 0.0005 else 4 if tol < 0.003 else 3
    rounded = shapely.transform(simple, lambda xy: np.round(xy, decimals))
    collapsed = shapely.is_empty(rounded) | (shapely.area(rounded) == 0)
    rounded[collapsed] = simple[collapsed]
    return [str(t) for t in shapely.to_geojson(rounded)], tol


def boundary_wards(bf: BoundaryFile, *, code_field: str | None = None, name_field: str | None = None,
                   locality_field: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """(ward_code, ward_name, locality, geometry) from a read file, checked; and merged codes.

    Rows sharing a code and name (a ward split over several rows) are joined into one area.
    """
    s = bf.suggestion
    code_field = code_field or s.code
    name_field = name_field or s.name
    if not code_field or not name_field:
        raise GeoError(f"{bf.name}: could not tell which field holds the area "
                       f"{'code' if not code_field else 'name'}. Its fields are {_few(s.fields, 12)}: choose one.",
                       title="Choose the code and name fields")
    for role, f in (("code", code_field), ("name", name_field), ("locality", locality_field)):
        if f and f not in bf.frame.columns:
            raise GeoError(f"{bf.name} has no field called {f!r} for the area {role}. Its fields are "
                           f"{_few(s.fields, 12)}.", title="Missing field")
    g = bf.frame
    codes = g[code_field].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip())
    codes = codes.str.replace(r"\.0$", "", regex=True)  # numeric codes read as floats
    names = g[name_field].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip())
    blank = np.flatnonzero((codes == "").to_numpy() | (names == "").to_numpy())
    if len(blank):
        raise GeoError(f"{bf.name}: {len(blank)} row(s) have no {code_field} or {name_field} "
                       f"(rows {_few([str(i + 1) for i in blank])}). Fill them in or choose other fields.",
                       title="Missing codes or names")
    loc = g[locality_field].astype(str).str.strip() if locality_field else pd.Series([None] * len(g), index=g.index)
    df = gpd.GeoDataFrame({"ward_code": codes.to_numpy(), "ward_name": names.to_numpy(), "locality": loc.to_numpy()},
                          geometry=g.geometry.to_numpy(), crs=g.crs)
    merged: list[str] = []
    dup = df["ward_code"].duplicated(keep=False)
    if dup.any():
        clash = df[dup].groupby("ward_code")["ward_name"].nunique()
        clash = clash[clash > 1]
        # Names differing under one code, or most rows sharing codes: the wrong field, not split wards.
        if len(clash) or (len(df) >= 4 and df["ward_code"].nunique() < len(df) / 2):
            examples = list(clash.index) if len(clash) else list(df.loc[dup, "ward_code"].unique())
            raise GeoError(f"{bf.name}: the values of {code_field} repeat ({int(dup.sum())} of {len(df)} rows share a "
                           f"value, e.g. {_few(examples, 3)}). Is {code_field} the area's own code? Suggested: "
                           f"{s.code or 'none'}.", title="Codes are not unique")
        merged = sorted(df.loc[dup, "ward_code"].unique())
        df = df.dissolve(by="ward_code", aggfunc="first", as_index=False)[
            ["ward_code", "ward_name", "locality", "geometry"]]
    return df.reset_index(drop=True), merged


def _assign_points(lon: np.ndarray, lat: np.ndarray, codes: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """The code of the area holding each point (None outside every area)."""
    out = np.full(len(lon), None, dtype=object)
    if len(lon) == 0 or len(geoms) == 0:
        return out
    pts = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(pts, predicate="within")
    out[pi] = codes[gi]
    return out


def load_boundaries(store: Store, source: Source | BoundaryFile, *, filename: str | None = None,
                    code_field: str | None = None, name_field: str | None = None,
                    locality_field: str | None = None, repair: bool = True, backup: bool = True) -> BoundaryReport:
    """Replace the ward table with the areas in a boundary file, in one transaction.

    Stored geometry is the file's own (reprojected, repaired); the display copy is simplified.
    Sites and population points are re-assigned to the new areas in the same transaction. Needs
    figures and survey answers that match no new area are kept and listed in the report.

    Args:
        store: The store to write to.
        source: A path, bytes, upload, or a `BoundaryFile` already read (the page reads first to
            offer the field choice).
        code_field, name_field, locality_field: Fields to use; default the suggestions.
        repair: Make invalid geometry valid (listed) rather than refusing the file.
        backup: Take an automatic backup of the database file before replacing the wards.
    """
    t0 = time.perf_counter()
    bf = source if isinstance(source, BoundaryFile) else read_boundaries(source, filename=filename, repair=repair)
    code_field = code_field or bf.suggestion.code or ""
    name_field = name_field or bf.suggestion.name or ""
    if locality_field is None and bf.suggestion.locality not in (None, code_field, name_field):
        locality_field = bf.suggestion.locality
    wards, merged = boundary_wards(bf, code_field=code_field, name_field=name_field, locality_field=locality_field)
    geoms = wards.geometry.to_numpy()
    display, tol = display_geometries(geoms)
    reps = shapely.point_on_surface(geoms)
    rows = pd.DataFrame({
        "ward_code": wards["ward_code"].astype(object), "ward_name": wards["ward_name"].astype(object),
        "name_key": [normalise(n) for n in wards["ward_name"]], "locality": wards["locality"].astype(object),
        "geometry": [bytes(b) for b in shapely.to_wkb(geoms)], "geometry_display": display,
        "area_km2": _areas_km2(wards.geometry), "centroid_lon": shapely.get_x(reps),
        "centroid_lat": shapely.get_y(reps), "source": bf.name,
    })
    codes = rows["ward_code"].to_numpy(dtype=object)
    sites = store.read("SELECT site_id, lon, lat FROM sites WHERE lon IS NOT NULL AND lat IS NOT NULL")
    site_codes = _assign_points(sites["lon"].to_numpy(), sites["lat"].to_numpy(), codes, geoms)
    pts = store.read("SELECT rowid AS rid, lon, lat FROM population_points")
    pt_codes = _assign_points(pts["lon"].to_numpy(), pts["lat"].to_numpy(), codes, geoms)
    new_codes = set(rows["ward_code"])
    orphan = sorted(set(store.read("SELECT DISTINCT ward_code FROM needs")["ward_code"]) - new_codes)
    keys = set(rows["name_key"]) | {c.lower() for c in new_codes}
    answers = store.read("SELECT DISTINCT ward_name, ward_key FROM service_wards")
    unmatched = sorted(answers.loc[~answers["ward_key"].isin(keys), "ward_name"])
    backup_path = None
    if backup:
        from hubdash.backup import auto_backup

        p = auto_backup(store, "load-wards")
        backup_path = str(p) if p else None
    with store.write() as cur:
        _claim(cur)
        cur.execute("DELETE FROM wards")
        cur.register("_new_wards", rows)
        try:
            cur.execute("INSERT INTO wards (ward_code, ward_name, name_key, locality, geometry, geometry_display, "
                        "area_km2, centroid_lon, centroid_lat, source) SELECT ward_code, ward_name, name_key, "
                        "locality, geometry, geometry_display, area_km2, centroid_lon, centroid_lat, source "
                        "FROM _new_wards")
        finally:
            cur.unregister("_new_wards")
        if len(sites):
            cur.executemany("UPDATE sites SET ward_code = ? WHERE site_id = ?",
                            [[c, int(i)] for c, i in zip(site_codes, sites["site_id"], strict=True)])
        if len(pts):
            cur.register("_pt_codes", pd.DataFrame({"rid": pts["rid"].to_numpy(), "code": pt_codes}))
            try:
                cur.execute("UPDATE population_points SET ward_code = p.code FROM _pt_codes p "
                            "WHERE population_points.rowid = p.rid")
            finally:
                cur.unregister("_pt_codes")
        cur.execute("INSERT OR REPLACE INTO meta VALUES ('wards_source', ?)", [bf.name])
    return BoundaryReport(
        wards=len(rows), code_field=code_field, name_field=name_field, locality_field=locality_field,
        crs_note=bf.crs_note, repaired=bf.repaired, merged=merged, display_tolerance=tol,
        display_bytes=int(sum(map(len, display))), orphan_needs=orphan, unmatched_answers=unmatched,
        sites_in_wards=int(pd.notna(site_codes).sum()), points_in_wards=int(pd.notna(pt_codes).sum()),
        seconds=time.perf_counter() - t0, backup=backup_path)


# --- needs -------------------------------------------------------------------------------------


@dataclass
class NeedsReport:
    """What `load_needs` did. `unmatched` lists every key that matched no ward (or several)."""

    layout: str
    rows_loaded: int
    indicators: list[str]
    wards_matched: int
    unmatched: pd.DataFrame
    not_numbers: pd.DataFrame
    source: str

    def lines(self) -> list[str]:
        labels = [indicator_label(i) for i in self.indicators]
        out = [f"Loaded {self.rows_loaded:,} figures ({self.layout} table) for {self.wards_matched:,} wards: "
               f"{_few(labels, 8)}."]
        if len(self.unmatched):
            keys = self.unmatched["ward"].astype(str).tolist()
            out.append(f"{len(keys)} ward key(s) matched no ward and were NOT loaded: {_few(keys)}. They are listed "
                       "below; check them against the ward table (codes change when boundaries change).")
        if len(self.not_numbers):
            out.append(f"{len(self.not_numbers)} value(s) were not numbers and were left out (listed below).")
        return out


_WARD_HEADERS = {"ward", "wardcode", "wardname", "wardcd", "wardnm", "code", "name", "areacode", "areaname",
                 "geographycode", "geography", "geogcode", "area", "mnemonic"}
_LONG_ALIASES = {
    "indicator": {"indicator", "indicatorcode", "indicatorname", "measure", "variable", "metric"},
    "value": {"value", "observation", "obsvalue", "count", "figure"},
    "unit": {"unit", "units", "unitofmeasure"},
    "period": {"period", "year", "date", "timeperiod"},
    "source": {"source", "publisher", "dataset"},
}


def _is_code_header(k: str) -> bool:
    return bool(re.fullmatch(r"(wd|ward|lsoa|msoa|lad|oa)\d{0,2}(cd|code)(bestfit)?", k)) or k in (
        "wardcode", "code", "areacode", "geographycode", "geogcode", "wardcd", "mnemonic")


def _is_name_header(k: str) -> bool:
    return bool(re.fullmatch(r"(wd|ward)\d{0,2}(nm|name)(bestfit)?", k)) or k in (
        "ward", "wardname", "name", "areaname", "geography", "area", "wardnm")


#: Other common headings for the schema's indicators (normalised), as ONS and Fingertips write them.
INDICATOR_ALIASES: dict[str, set[str]] = {
    "pop_0_4": {"aged04", "age04", "children04", "population04", "aged0to4", "persons04", "under5s"},
    "pop_0_19": {"aged019", "age019", "children019", "population019", "aged0to19"},
    "births": {"livebirths", "birthsayear", "numberofbirths"},
    "imd_score": {"imd", "imdscore", "imdaveragescore", "indexofmultipledeprivationimdscore", "imd2019score"},
    "imd_decile": {"imddecile", "indexofmultipledeprivationimddecile", "imd2019decile"},
    "pct_minority_ethnic": {"minorityethnic", "pctminorityethnic", "percentminorityethnic", "ethnicminority"},
    "breastfeeding_6_8wk": {"breastfeeding68weeks", "breastfeedingprevalenceat68weeks"},
    "smoking_at_delivery": {"smokingattimeofdelivery", "satod"},
    "children_low_income": {"childreninlowincomefamilies", "childreninrelativelowincomefamilies", "cilif"},
    "young_parent_births": {"birthstomothersunder25", "teenageandyoungmothers"},
}


def indicator_code(text: str) -> str:
    """The schema code for an indicator header or name, else the text itself (kept as given).

    E.g. `indicator_code("Children aged 0-4")` == `"pop_0_4"`, `indicator_code("aged_0_4")` ==
    `"pop_0_4"`; unknown names stay as written.
    """
    k = normalise(text)
    for ind in schema.INDICATORS:
        if k in (normalise(ind.code), normalise(ind.label)) or k in INDICATOR_ALIASES.get(ind.code, ()):
            return ind.code
    return str(text).strip()


def indicator_label(code: str) -> str:
    ind = schema.INDICATOR_BY_CODE.get(code)
    return ind.label if ind else code


def indicator_unit(code: str, header: str = "") -> str:
    ind = schema.INDICATOR_BY_CODE.get(code)
    if ind:
        return ind.unit
    h = header.lower()
    return "%" if ("%" in h or "percent" in h or re.search(r"\bpct\b|\brate\b|\bshare\b", h)) else ""


def ward_keys(store: Store) -> pd.DataFrame:
    """ward_code, ward_name, name_key of every ward (the keys needs tables are matched on)."""
    return store.read("SELECT ward_code, ward_name, name_key FROM wards ORDER BY ward_code")


def match_wards(keys: pd.Series, wards: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(ward_code or None, reason if unmatched) for each key: a ward code, else a unique ward name."""
    by_code = {c.lower(): c for c in wards["ward_code"]}
    counts = wards["name_key"].value_counts()
    by_name = dict(zip(wards["name_key"], wards["ward_code"], strict=True))
    codes, reasons = [], []
    for k in keys.astype(str):
        raw = k.strip()
        if raw.lower() in by_code:
            codes.append(by_code[raw.lower()])
            reasons.append(None)
            continue
        nk = normalise(raw)
        n = int(counts.get(nk, 0))
        if n == 1:
            codes.append(by_name[nk])
            reasons.append(None)
        elif n > 1:
            codes.append(None)
            reasons.append(f"{n} wards have this name: key the table by ward code")
        else:
            codes.append(None)
            reasons.append("no ward has this code or name" + (" (is the table on another year's ward codes?)"
                                                             if _GSS.match(raw.upper()) else ""))
    return pd.Series(codes, index=keys.index, dtype=object), pd.Series(reasons, index=keys.index, dtype=object)


def _to_number(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, int | float):
        return None if isinstance(v, float) and math.isnan(v) else float(v)
    s = str(v).strip().replace(",", "").replace("%", "").replace("£", "")
    if s in ("", "-", "..", ":", "x", "c", "*", "n/a", "NA", "nan"):
        return None
    try:
        return float(s)
    except ValueError:
        return None


def parse_needs(table: pd.DataFrame, wards: pd.DataFrame, *, period: str | None = None,
                source: str | None = None, ward_field: str | None = None) -> tuple[pd.DataFrame, NeedsReport]:
    """A needs table (long or wide) as rows for the `needs` table, and the report of what matched.

    Long form has indicator and value columns (unit, period, source optional); wide form has one
    numeric column per indicator. The ward key is a code or name column (`ward_field` to choose).
    """
    name = table.attrs.get("name", "the table")
    header_row = int(table.attrs.get("header_row", 1))
    keys = {c: normalise(c) for c in table.columns}
    key_col = ward_field
    if key_col and key_col not in table.columns:
        raise GeoError(f"{name} has no column {key_col!r}. Its columns are {_few(list(table.columns), 12)}.",
                       title="Missing column")
    if not key_col:
        code_cols = [c for c, k in keys.items() if _is_code_header(k)]
        name_cols = [c for c, k in keys.items() if _is_name_header(k)]
        key_col = (code_cols or name_cols or [None])[0]
    if not key_col:
        raise GeoError(f"{name} has no ward column. Name one column ward_code (e.g. E05015186) or ward_name; its "
                       f"columns are {_few(list(table.columns), 12)}.", title="No ward column")
    role = {r: next((c for c, k in keys.items() if k in aliases and c != key_col), None)
            for r, aliases in _LONG_ALIASES.items()}
    src = source or name
    if role["indicator"] and role["value"]:
        layout = "long"
        long = pd.DataFrame({
            "row": np.arange(len(table)) + header_row + 1,
            "ward": table[key_col].astype(str).str.strip(),
            "header": table[role["indicator"]].astype(str).str.strip(),
            "raw": table[role["value"]],
            "unit": table[role["unit"]] if role["unit"] else None,
            "period": table[role["period"]].astype(str) if role["period"] else period,
            "source": table[role["source"]] if role["source"] else src,
        })
    else:
        layout = "wide"
        skip = {key_col} | {c for c, k in keys.items() if _is_code_header(k) or _is_name_header(k)}
        skip |= {c for r, c in role.items() if c and r in ("unit", "period", "source")}
        value_cols = [c for c in table.columns if c not in skip
                      and table[c].map(_to_number).notna().sum() >= max(1, 0.5 * table[c].notna().sum())]
        if not value_cols:
            raise GeoError(f"{name}: found the ward column {key_col!r} but no columns of numbers. A wide table has one "
                           "column per indicator; a long one has indicator and value columns.",
                           title="No figures found")
        parts = []
        for c in value_cols:
            parts.append(pd.DataFrame({
                "row": np.arange(len(table)) + header_row + 1, "ward": table[key_col].astype(str).str.strip(),
                "header": c, "raw": table[c], "unit": None,
                "period": table[role["period"]].astype(str) if role["period"] else period,
                "source": table[role["source"]] if role["source"] else src}))
        long = pd.concat(parts, ignore_index=True)
    long = long[long["ward"].ne("") & long["ward"].ne("None") & long["header"].ne("")].copy()
    long["indicator"] = long["header"].map(indicator_code)
    long["value"] = long["raw"].map(_to_number)
    long["unit"] = [u if isinstance(u, str) and u.strip() else indicator_unit(i, h)
                    for u, i, h in zip(long["unit"], long["indicator"], long["header"], strict=True)]
    long["period"] = long["period"].map(lambda p: None if p is None or str(p).strip() in ("", "None", "nan")
                                        else str(p).strip())
    long["ward_code"], long["reason"] = match_wards(long["ward"], wards)
    bad_num = long[long["value"].isna() & long["raw"].notna()
                   & long["raw"].astype(str).str.strip().ne("")][["row", "ward", "header", "raw"]]
    um = long[long["ward_code"].isna()]
    unmatched = (um.groupby(["ward", "reason"], sort=False)["row"].agg(lambda r: _few([str(x) for x in sorted(set(r))], 5))
                 .reset_index().rename(columns={"row": "rows"})) if len(um) else \
        pd.DataFrame(columns=["ward", "reason", "rows"])
    ok = long[long["ward_code"].notna() & long["value"].notna()]
    rows = ok[["ward_code", "indicator", "value", "unit", "period", "source"]].copy()
    rows["source"] = rows["source"].astype(str)
    rows = rows.drop_duplicates(["ward_code", "indicator", "period"], keep="last").reset_index(drop=True)
    report = NeedsReport(layout=layout, rows_loaded=len(rows), indicators=list(dict.fromkeys(rows["indicator"])),
                         wards_matched=int(rows["ward_code"].nunique()), unmatched=unmatched,
                         not_numbers=bad_num.rename(columns={"header": "indicator", "raw": "value"}).reset_index(drop=True),
                         source=src)
    return rows, report


def store_needs(store: Store, rows: pd.DataFrame) -> int:
    """Write needs rows in one transaction, replacing earlier figures for the same indicator and period."""
    if rows.empty:
        return 0
    pairs = rows[["indicator", "period"]].drop_duplicates()
    with store.write() as cur:
        _claim(cur)
        for ind, per in pairs.itertuples(index=False):
            cur.execute("DELETE FROM needs WHERE indicator = ? AND period IS NOT DISTINCT FROM ?",
                        [ind, None if pd.isna(per) else per])
        df = rows[["ward_code", "indicator", "value", "unit", "period", "source"]].astype(
            {"ward_code": object, "indicator": object, "unit": object, "period": object, "source": object})
        df["value"] = df["value"].astype(float)
        cur.register("_new_needs", df)
        try:
            cur.execute("INSERT INTO needs SELECT ward_code, indicator, value, unit, period, source FROM _new_needs")
        finally:
            cur.unregister("_new_needs")
    return len(rows)


def load_needs(store: Store, source: Source | pd.DataFrame, *, filename: str | None = None,
               period: str | None = None, source_label: str | None = None, ward_field: str | None = None,
               strict: bool = False) -> NeedsReport:
    """Load a needs table (CSV/XLSX file, or a DataFrame from the `derive_*` helpers).

    Args:
        store: The store to write to.
        source: A file path, bytes, upload, or a DataFrame (long form: ward, indicator, value, ...).
        period, source_label: Used where the table has no period or source column.
        ward_field: The column holding ward codes or names (default: found from the headers).
        strict: Refuse the whole table if any ward key matches no ward.

    Raises:
        GeoError: no ward column, no figures, no wards loaded yet, or (strict) unmatched keys.
    """
    wards = ward_keys(store)
    if wards.empty:
        raise GeoError("There are no wards yet. Load ward boundaries first, then the needs table.",
                       title="Load boundaries first")
    if isinstance(source, pd.DataFrame):
        table = source.astype(object).where(source.notna(), None)
        table.attrs.update(source.attrs)
        table.attrs.setdefault("name", source_label or "derived table")
    else:
        table = read_table(source, filename=filename, what="a ward column",
                           is_header=lambda cells: any(_is_code_header(normalise(c)) or _is_name_header(normalise(c))
                                                       for c in cells))
    rows, report = parse_needs(table, wards, period=period, source=source_label, ward_field=ward_field)
    if strict and len(report.unmatched):
        raise GeoError(f"{report.source}: {len(report.unmatched)} ward key(s) match no ward "
                       f"({_few(report.unmatched['ward'].tolist())}). Nothing was loaded.", title="Unmatched wards")
    if rows.empty:
        raise GeoError(f"{report.source}: no figure matched a ward, so nothing was loaded. Unmatched keys: "
                       f"{_few(report.unmatched['ward'].astype(str).tolist())}. Are the codes for the same ward "
                       "set as the boundaries?", title="No ward matched")
    store_needs(store, rows)
    return report


# --- needs derived from ONS files ----------------------------------------------------------------


def _col(df: pd.DataFrame, name: str, *candidates: str, test: Callable[[str], bool] | None = None) -> str:
    keys = {c: normalise(c) for c in df.columns}
    for cand in candidates:
        for c, k in keys.items():
            if k == cand:
                return c
    if test:
        for c, k in keys.items():
            if test(k):
                return c
    raise GeoError(f"{name} has no {candidates[0]} column (columns: {_few(list(df.columns), 12)}).",
                   title="Missing column")


def _age_number(text: Any) -> int | None:
    s = str(text).lower()
    if "under 1" in s or "less than 1" in s:
        return 0
    m = re.search(r"\d+", s)
    return int(m.group()) if m else None


def derive_children(age_table: Source, *, filename: str | None = None, max_age: int = 4,
                    period: str = "2021", source: str = "Census 2021 TS007 (ONS)") -> pd.DataFrame:
    """Children aged 0 to `max_age` per ward from a Census single-year-of-age table (long form).

    Expects a ward code column, an age column (0, 1 ... or 'Aged 4 years', 'Aged under 1 year')
    and a count column (persons/observation/count). Returns a long needs frame.
    """
    t = read_table(age_table, filename=filename, what="ward, age and count columns")
    name = t.attrs.get("name", "the table")
    ward = _col(t, name, "wd22cd", "wardcode", "geographycode", test=_is_code_header)
    age = _col(t, name, "age", "ageinyears", test=lambda k: k.startswith("age"))
    count = _col(t, name, "persons", "observation", "count", "value", "people")
    ages = t[age].map(_age_number)
    n = t[count].map(_to_number)
    keep = ages.notna() & (ages <= max_age) & n.notna()
    out = (pd.DataFrame({"ward_code": t[ward].str.strip(), "n": n})[keep].groupby("ward_code", sort=True)["n"].sum()
           .reset_index())
    code = {4: "pop_0_4", 19: "pop_0_19"}.get(max_age, f"Children aged 0-{max_age}")
    return pd.DataFrame({"ward_code": out["ward_code"], "indicator": code, "value": out["n"], "unit": "people",
                         "period": period, "source": source})


def derive_minority_ethnic(ethnicity_table: Source, *, filename: str | None = None, period: str = "2021",
                           source: str = "Census 2021 TS021 (ONS)") -> pd.DataFrame:
    """% of residents in a minority ethnic group (every group except White British) per ward.

    This is the ONS definition used for 'ethnic minorities' in England, which counts White Irish,
    Gypsy or Irish Traveller, Roma and Other White as minority groups.
    """
    t = read_table(ethnicity_table, filename=filename, what="ward, ethnic group and count columns")
    name = t.attrs.get("name", "the table")
    ward = _col(t, name, "wd22cd", "wardcode", "geographycode", test=_is_code_header)
    group = _col(t, name, "ethnicgroup", "ethnicgroupdetailed", "ethnicity", test=lambda k: "ethnic" in k and "broad" not in k)
    count = _col(t, name, "persons", "observation", "count", "value", "people")
    g = t[group].astype(str)
    detailed = ~g.map(normalise).str.startswith("total")
    if g.str.contains(":").any():  # ONS bulk files mix broad rows and 'Broad: detailed' rows
        detailed &= g.str.contains(":")
    wb = g.map(normalise).str.contains("englishwelshscottishnorthernirishorbritish|whitebritish")
    df = pd.DataFrame({"ward_code": t[ward].str.strip(), "n": t[count].map(_to_number), "wb": wb})[detailed]
    tot = df.groupby("ward_code")["n"].sum()
    white_british = df[df["wb"]].groupby("ward_code")["n"].sum().reindex(tot.index, fill_value=0)
    pct = (100 * (tot - white_british) / tot).round(2)
    return pd.DataFrame({"ward_code": pct.index, "indicator": "pct_minority_ethnic", "value": pct.to_numpy(),
                         "unit": "%", "period": period, "source": source})


def derive_imd(imd_table: Source, *, lookup: Source | None = None, filename: str | None = None,
               lookup_filename: str | None = None, ward_field: str | None = None, score_field: str | None = None,
               weight_field: str | None = None, period: str = "2019",
               source: str = "English Indices of Deprivation 2019 (MHCLG), mean of LSOA scores") -> pd.DataFrame:
    """Mean IMD score per ward from LSOA scores, grouped by a ward field in the IMD file or a lookup.

    Args:
        imd_table: One row per LSOA with an IMD score column (`imd_score`, `imd_score_calc`...).
        lookup: Optional LSOA-to-ward lookup, used when the ward field is not in the IMD file
            (e.g. `wd23cd_bestfit` for the May 2023 wards).
        ward_field: The ward code column to group by (default: the first `wd..cd` column).
        weight_field: Population column to weight by (default: plain mean, as ONS ward means).
    """
    t = read_table(imd_table, filename=filename, what="an LSOA code column")
    name = t.attrs.get("name", "the table")
    lsoa = _col(t, name, "lsoa11cd", "lsoacode", "lsoa21cd", test=lambda k: k.startswith("lsoa") and k.endswith(("cd", "code")))
    score = score_field or _col(t, name, "imdscore", "imdscorecalc", "indexofmultipledeprivationimdscore",
                                test=lambda k: "imd" in k and "score" in k)
    frame = t
    if lookup is not None:
        lk = read_table(lookup, filename=lookup_filename, what="an LSOA code column")
        lk_lsoa = _col(lk, lk.attrs.get("name", "lookup"), "lsoa11cd", "lsoacode", "lsoa21cd",
                       test=lambda k: k.startswith("lsoa") and k.endswith(("cd", "code")))
        wf = ward_field or _col(lk, lk.attrs.get("name", "lookup"), "wd23cdbestfit", "wd23cd",
                                test=lambda k: bool(re.fullmatch(r"wd\d{2}cd\w*", k)))
        frame = t[[lsoa, score] + ([weight_field] if weight_field else [])].merge(
            lk[[lk_lsoa, wf]].rename(columns={lk_lsoa: lsoa}), on=lsoa, how="left")
        ward_field = wf
    else:
        ward_field = ward_field or _col(t, name, "wd19cd", "wardcode", test=lambda k: bool(re.fullmatch(r"wd\d{2}cd", k)))
    if ward_field not in frame.columns:
        raise GeoError(f"{name}: no column {ward_field!r} to group LSOAs into wards.", title="Missing column")
    df = pd.DataFrame({"ward_code": frame[ward_field].astype(str).str.strip(), "score": frame[score].map(_to_number),
                       "w": frame[weight_field].map(_to_number) if weight_field else 1.0}).dropna()
    df = df[df["ward_code"].ne("") & df["ward_code"].ne("None")]
    df["ws"] = df["score"] * df["w"]
    g = df.groupby("ward_code")[["ws", "w"]].sum()
    mean = (g["ws"] / g["w"]).round(2)
    return pd.DataFrame({"ward_code": mean.index, "indicator": "imd_score", "value": mean.to_numpy(),
                         "unit": "score", "period": period, "source": source})


# --- population points (for population-weighted ward centres) ----------------------------------------


def population_points_from_areas(areas: Source, population: Source, *, areas_filename: str | None = None,
                                 population_filename: str | None = None, code_field: str | None = None,
                                 population_field: str | None = None) -> pd.DataFrame:
    """One point per small area (e.g. LSOA) at its inner centre, weighted by its population.

    Args:
        areas: Small-area boundaries (any format `read_boundaries` takes).
        population: A table keyed by the same area code with a population column.
        population_field: The population column (default: children 0-15 if present, else total).
    """
    bf = read_boundaries(areas, filename=areas_filename)
    code_field = code_field or bf.suggestion.code
    if not code_field:
        raise GeoError(f"{bf.name}: choose the area code field.", title="Choose the code field")
    t = read_table(population, filename=population_filename, what="an area code column")
    name = t.attrs.get("name", "the table")
    key = _col(t, name, normalise(code_field), test=lambda k: k.endswith(("cd", "code")))
    pop = population_field or next((c for c in t.columns if normalise(c).startswith("pop015")), None) or _col(
        t, name, "population", "poptotal", "poptotalmid2015", "persons", test=lambda k: k.startswith("pop"))
    g = bf.frame
    # Centroids in metres, then back to lon/lat; the point on surface when the centroid falls outside.
    metric = g.geometry.to_crs(BNG) if _looks_lonlat(np.asarray(g.total_bounds)) else g.geometry
    cen = metric.centroid.to_crs(WGS84)
    inside = cen.within(g.geometry.reset_index(drop=True).set_axis(cen.index))
    pts = cen.where(inside, g.geometry.representative_point())
    pts_df = pd.DataFrame({"code": g[code_field].astype(str).str.strip(), "lon": pts.x, "lat": pts.y})
    pops = pd.DataFrame({"code": t[key].astype(str).str.strip(), "population": t[pop].map(_to_number)})
    out = pts_df.merge(pops, on="code", how="inner").dropna()
    if out.empty:
        raise GeoError(f"No area codes in {bf.name} match {name} (field {key!r}).", title="No areas matched")
    return out.rename(columns={"code": "label"})[["lon", "lat", "population", "label"]]


def read_population_points(source: Source, *, filename: str | None = None) -> pd.DataFrame:
    """Population points from a CSV/XLSX: lat/lon (or BNG easting/northing x/y) and a population."""
    t = read_table(source, filename=filename, what="coordinate and population columns")
    name = t.attrs.get("name", "the table")
    keys = {normalise(c): c for c in t.columns}
    pop = _col(t, name, "population", "pop", "persons", "count", "weight", test=lambda k: k.startswith("pop"))
    label = next((keys[k] for k in keys if _is_code_header(k) or k.endswith(("cd", "code"))), None)
    if any(k in keys for k in ("lat", "latitude")):
        lat = t[keys.get("lat") or keys["latitude"]].map(_to_number)
        lon = t[next(keys[k] for k in ("lon", "long", "longitude", "lng") if k in keys)].map(_to_number)
    elif any(k in keys for k in ("x", "easting", "eastings")):
        x = t[keys.get("x") or keys.get("easting") or keys["eastings"]].map(_to_number)
        y = t[keys.get("y") or keys.get("northing") or keys["northings"]].map(_to_number)
        pts = gpd.GeoSeries(gpd.points_from_xy(x.fillna(0), y.fillna(0)), crs=BNG).to_crs(WGS84)
        lon, lat = pts.x.where(x.notna()), pts.y.where(y.notna())
    else:
        raise GeoError(f"{name} has no lat/lon or x/y (easting/northing) columns.", title="Missing column")
    out = pd.DataFrame({"lon": lon, "lat": lat, "population": t[pop].map(_to_number),
                        "label": t[label].astype(str) if label else None}).dropna(subset=["lon", "lat", "population"])
    if out.empty or not _looks_lonlat(np.array([out.lon.min(), out.lat.min(), out.lon.max(), out.lat.max()])):
        raise GeoError(f"{name}: no usable points (coordinates missing or not longitude/latitude).")
    return out.reset_index(drop=True)


def load_population_points(store: Store, points: pd.DataFrame, *, source: str) -> dict[str, int]:
    """Replace the population points, each assigned to the ward that holds it (one transaction)."""
    wards = store.read("SELECT ward_code, geometry FROM wards")
    geoms = _wkb_geoms(wards["geometry"]) if len(wards) else np.array([])
    codes = _assign_points(points["lon"].to_numpy(), points["lat"].to_numpy(),
                           wards["ward_code"].to_numpy(dtype=object), geoms)
    df = pd.DataFrame({"lon": points["lon"].astype(float), "lat": points["lat"].astype(float),
                       "population": points["population"].astype(float), "ward_code": codes,
                       "label": points["label"].astype(object) if "label" in points else None, "source": source})
    with store.write() as cur:
        _claim(cur)
        cur.execute("DELETE FROM population_points")
        cur.register("_pts", df)
        try:
            cur.execute("INSERT INTO population_points SELECT lon, lat, population, ward_code, label, source FROM _pts")
        finally:
            cur.unregister("_pts")
    return {"points": len(df), "in_wards": int(pd.notna(codes).sum())}


# --- postcodes -----------------------------------------------------------------------------------


def normalise_postcode(text: Any) -> str | None:
    """A UK postcode in the standard form ('fy11aa ' -> 'FY1 1AA'), or None if it is not one."""
    if text is None:
        return None
    s = re.sub(r"[^A-Za-z0-9]", "", str(text)).upper()
    m = _POSTCODE.match(s)
    return f"{m.group(1)} {m.group(2)}" if m else None


@dataclass
class PostcodeReport:
    loaded: int
    invalid: int
    no_coordinates: int
    source: str

    def lines(self) -> list[str]:
        out = [f"Loaded {self.loaded:,} postcodes with coordinates from {self.source}."]
        if self.invalid:
            out.append(f"{self.invalid:,} row(s) did not hold a valid postcode and were skipped.")
        if self.no_coordinates:
            out.append(f"{self.no_coordinates:,} postcode(s) had no coordinates (ONS marks these 99.999999) and were "
                       "skipped.")
        return out


def read_postcode_lookup(source: Source, *, filename: str | None = None) -> tuple[pd.DataFrame, PostcodeReport]:
    """An ONS Postcode Directory extract (or any table of postcode, lat, long) as clean rows."""

    def header(cells: list[str]) -> bool:
        ks = {normalise(c) for c in cells}
        return bool(ks & {"pcd", "pcd2", "pcds", "postcode", "pcd7", "pcd8"}) and bool(ks & {"lat", "latitude"})

    t = read_table(source, filename=filename, is_header=header, what="postcode and lat/long columns")
    name = t.attrs.get("name", "the table")
    keys = {normalise(c): c for c in t.columns}
    pc = next(keys[k] for k in ("pcds", "postcode", "pcd", "pcd2", "pcd7", "pcd8") if k in keys)
    lat = keys.get("lat") or keys["latitude"]
    lon_key = next((k for k in ("long", "lon", "longitude", "lng") if k in keys), None)
    if lon_key is None:
        raise GeoError(f"{name} has a latitude column but no longitude (long/lon/longitude).", title="Missing column")
    df = pd.DataFrame({"postcode": t[pc].map(normalise_postcode), "lat": t[lat].map(_to_number),
                       "lon": t[keys[lon_key]].map(_to_number)})
    invalid = int(df["postcode"].isna().sum())
    df = df.dropna(subset=["postcode"])
    has = df["lat"].notna() & df["lon"].notna() & df["lat"].between(-90, 90) & df["lon"].between(-180, 180) \
        & ~((df["lat"] - 99.999999).abs() < 1e-4)
    out = df[has].drop_duplicates("postcode", keep="last").reset_index(drop=True)
    return out, PostcodeReport(loaded=len(out), invalid=invalid, no_coordinates=int((~has).sum()), source=name)


def store_postcodes(store: Store, rows: pd.DataFrame) -> int:
    """Insert or replace postcode points (postcode, lat, lon) in one transaction."""
    if rows.empty:
        return 0
    df = rows[["postcode", "lat", "lon"]].astype({"postcode": object, "lat": float, "lon": float})
    with store.write() as cur:
        _claim(cur)
        cur.register("_pcs", df)
        try:
            cur.execute("INSERT OR REPLACE INTO postcode_lookup SELECT postcode, lat, lon FROM _pcs")
        finally:
            cur.unregister("_pcs")
    return len(df)


def load_postcode_lookup(store: Store, source: Source, *, filename: str | None = None) -> PostcodeReport:
    """Load a postcode lookup file into `postcode_lookup` (added to what is there)."""
    rows, report = read_postcode_lookup(source, filename=filename)
    if rows.empty:
        raise GeoError(f"{report.source}: no row had a valid postcode with coordinates.", title="No postcodes loaded")
    store_postcodes(store, rows)
    return report


Fetch = Callable[[str, dict, float], dict]
POSTCODE_API = "https://api.postcodes.io/postcodes"


def _http_fetch(url: str, payload: dict, timeout: float) -> dict:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "hubdash"})
    with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (fixed https URL)
        return json.loads(r.read().decode())


def fetch_postcodes_online(postcodes: Sequence[str], *, fetch: Fetch | None = None,
                           timeout: float = 4.0) -> tuple[pd.DataFrame, list[str]]:
    """Look postcodes up on the public postcodes.io API: (found rows, postcodes not found).

    Optional and never required: offline, the call fails fast with a `GeoError` saying to
    upload a postcode lookup instead. `fetch` (url, json payload, timeout) -> json replaces the
    HTTP call (tests never touch the network).
    """
    fetch = fetch or _http_fetch
    clean = sorted({p for p in (normalise_postcode(x) for x in postcodes) if p})
    found, missing = [], []
    for i in range(0, len(clean), 100):  # the API takes 100 postcodes a request
        batch = clean[i:i + 100]
        try:
            reply = fetch(POSTCODE_API, {"postcodes": batch}, timeout)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
            raise GeoError(f"The postcode service (postcodes.io) could not be reached ({getattr(e, 'reason', e)}). "
                           "You may be offline: upload a postcode lookup file (ONS Postcode Directory extract) "
                           "instead, or place sites by hand.", title="Postcode lookup is offline") from e
        for item in reply.get("result") or []:
            res = item.get("result")
            q = normalise_postcode(item.get("query"))
            if res and res.get("latitude") is not None and res.get("longitude") is not None:
                found.append((normalise_postcode(res.get("postcode")) or q, float(res["latitude"]),
                              float(res["longitude"])))
            elif q:
                missing.append(q)
    return pd.DataFrame(found, columns=["postcode", "lat", "lon"]), missing


def unplaced_postcodes(store: Store) -> pd.DataFrame:
    """Survey and site postcodes with no point yet: postcode, services (how many use it), valid."""
    df = store.read(
        """SELECT postcode, count(DISTINCT service_id) AS services FROM service_postcodes GROUP BY postcode
           UNION ALL SELECT postcode, 0 FROM sites WHERE postcode IS NOT NULL AND lat IS NULL""")
    have = set(store.read("SELECT postcode FROM postcode_lookup")["postcode"])
    df["normalised"] = df["postcode"].map(normalise_postcode)
    df["valid"] = df["normalised"].notna()
    df = df[~df["normalised"].isin(have)]
    return (df.groupby(["postcode", "valid"], as_index=False)["services"].sum()
            .sort_values(["valid", "services"], ascending=[False, False]).reset_index(drop=True))


def place_postcodes_online(store: Store, *, fetch: Fetch | None = None, timeout: float = 4.0) -> tuple[int, list[str]]:
    """Look up every unplaced valid survey/site postcode online and store the points found."""
    todo = unplaced_postcodes(store)
    todo = todo[todo["valid"]]["postcode"].tolist()
    if not todo:
        return 0, []
    rows, missing = fetch_postcodes_online(todo, fetch=fetch, timeout=timeout)
    store_postcodes(store, rows)
    place_sites_from_postcodes(store)
    return len(rows), missing


# --- sites ---------------------------------------------------------------------------------------


@dataclass
class SitesReport:
    loaded: int
    placed: int
    unplaced: list[str]
    source: str

    def lines(self) -> list[str]:
        out = [f"Loaded {self.loaded} site(s) from {self.source}; {self.placed} have a place on the map."]
        if self.unplaced:
            out.append(f"{len(self.unplaced)} site(s) have no coordinates and a postcode not in the lookup: "
                       f"{_few(self.unplaced)}. Load a postcode lookup, look them up online, or place them by hand.")
        return out


def site_kind(text: Any) -> str:
    """'Family Hub', 'hub', 'family_hub' -> 'family_hub'; anything else is a delivery site."""
    k = normalise(text)
    return "family_hub" if "hub" in k else "site"


def read_sites(source: Source, *, filename: str | None = None) -> pd.DataFrame:
    """Sites from CSV/XLSX: name, kind (family hub or site), postcode, and optional lat/lon."""

    def header(cells: list[str]) -> bool:
        ks = {normalise(c) for c in cells}
        return bool(ks & {"name", "site", "sitename", "venue"})

    t = read_table(source, filename=filename, is_header=header, what="a name column")
    name = t.attrs.get("name", "the table")
    keys = {normalise(c): c for c in t.columns}
    nm = next(keys[k] for k in ("name", "sitename", "site", "venue") if k in keys)
    kind = next((keys[k] for k in ("kind", "type", "sitetype", "category") if k in keys), None)
    pc = next((keys[k] for k in ("postcode", "pcds", "pcd") if k in keys), None)
    lat = next((keys[k] for k in ("lat", "latitude") if k in keys), None)
    lon = next((keys[k] for k in ("lon", "long", "longitude", "lng") if k in keys), None)
    df = pd.DataFrame({
        "name": t[nm].astype(str).str.strip(),
        "kind": t[kind].map(site_kind) if kind else "site",
        "postcode": t[pc].map(lambda v: normalise_postcode(v) or (str(v).strip() if v else None)) if pc else None,
        "lat": t[lat].map(_to_number) if lat else np.nan, "lon": t[lon].map(_to_number) if lon else np.nan,
    })
    df = df[df["name"].ne("") & df["name"].ne("None")].reset_index(drop=True)
    if df.empty:
        raise GeoError(f"{name} lists no sites.", title="No sites")
    return df


def _place(store: Store, df: pd.DataFrame) -> pd.DataFrame:
    """Fill missing lat/lon from the postcode lookup and assign each placed site to a ward."""
    look = store.read("SELECT postcode, lat AS plat, lon AS plon FROM postcode_lookup")
    df = df.copy()
    df["pc"] = df["postcode"].map(normalise_postcode)
    df = df.merge(look, left_on="pc", right_on="postcode", how="left", suffixes=("", "_l"))
    df["lat"] = df["lat"].astype(float).fillna(df["plat"])
    df["lon"] = df["lon"].astype(float).fillna(df["plon"])
    wards = store.read("SELECT ward_code, geometry FROM wards")
    geoms = _wkb_geoms(wards["geometry"]) if len(wards) else np.array([])
    placed = df["lat"].notna() & df["lon"].notna()
    codes = np.full(len(df), None, dtype=object)
    codes[placed.to_numpy()] = _assign_points(df.loc[placed, "lon"].to_numpy(), df.loc[placed, "lat"].to_numpy(),
                                              wards["ward_code"].to_numpy(dtype=object), geoms)
    df["ward_code"] = codes
    return df.drop(columns=["pc", "postcode_l", "plat", "plon"], errors="ignore")


def load_sites(store: Store, source: Source | pd.DataFrame, *, filename: str | None = None,
               replace: bool = True) -> SitesReport:
    """Load family hubs and delivery sites (replacing the current list unless `replace=False`)."""
    df = source if isinstance(source, pd.DataFrame) else read_sites(source, filename=filename)
    name = filename or df.attrs.get("name") or (Path(source).name if isinstance(source, str | Path) else "the table")
    df = _place(store, df)
    with store.write() as cur:
        _claim(cur)
        if replace:
            cur.execute("DELETE FROM sites")
        cur.executemany("INSERT INTO sites (name, kind, postcode, lat, lon, ward_code, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [[r.name, r.kind, r.postcode if isinstance(r.postcode, str) else None,
                          None if pd.isna(r.lat) else float(r.lat), None if pd.isna(r.lon) else float(r.lon),
                          r.ward_code, name] for r in df.itertuples(index=False)])
    unplaced = df[df["lat"].isna()]["name"].tolist()
    return SitesReport(loaded=len(df), placed=len(df) - len(unplaced), unplaced=unplaced, source=name)


def add_site(store: Store, *, name: str, kind: str, lat: float | None = None, lon: float | None = None,
             postcode: str | None = None) -> int:
    """Place one site by hand (coordinates, or a postcode in the lookup); returns its id."""
    if not name.strip():
        raise GeoError("Give the site a name.", title="Site not added")
    if kind not in SITE_KINDS:
        raise GeoError(f"Kind must be one of {', '.join(SITE_KINDS)}.", title="Site not added")
    df = _place(store, pd.DataFrame({"name": [name.strip()], "kind": [kind],
                                     "postcode": [normalise_postcode(postcode) or postcode],
                                     "lat": [np.nan if lat is None else lat], "lon": [np.nan if lon is None else lon]}))
    r = df.iloc[0]
    if pd.isna(r["lat"]) or not (-90 <= r["lat"] <= 90 and -180 <= r["lon"] <= 180):
        raise GeoError(f"{name}: give latitude and longitude, or a postcode that is in the postcode lookup.",
                       title="Site not placed")
    with store.write() as cur:
        sid = int(cur.execute("SELECT nextval('seq_sites')").fetchall()[0][0])
        cur.execute("INSERT INTO sites (site_id, name, kind, postcode, lat, lon, ward_code, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 'placed by hand')",
                    [sid, r["name"], kind, r["postcode"], float(r["lat"]), float(r["lon"]), r["ward_code"]])
    return sid


def remove_site(store: Store, site_id: int) -> None:
    with store.write() as cur:
        cur.execute("DELETE FROM sites WHERE site_id = ?", [int(site_id)])


def place_sites_from_postcodes(store: Store) -> int:
    """Give unplaced sites coordinates from the postcode lookup; returns how many were placed."""
    df = store.read("SELECT site_id, name, kind, postcode, lat, lon FROM sites WHERE lat IS NULL OR lon IS NULL")
    if df.empty:
        return 0
    placed = _place(store, df)
    placed = placed[placed["lat"].notna()]
    if placed.empty:
        return 0
    with store.write() as cur:
        cur.executemany("UPDATE sites SET lat = ?, lon = ?, ward_code = ? WHERE site_id = ?",
                        [[float(r.lat), float(r.lon), r.ward_code, int(r.site_id)] for r in placed.itertuples()])
    return len(placed)


def sites_frame(store: Store) -> pd.DataFrame:
    """Every site with its ward name: site_id, name, kind, postcode, lat, lon, ward_code, ward_name."""
    return store.read("""SELECT s.site_id, s.name, s.kind, s.postcode, s.lat, s.lon, s.ward_code, w.ward_name, s.source
                         FROM sites s LEFT JOIN wards w USING (ward_code) ORDER BY s.kind, s.name""")


#: Above this many bytes of stored display geometry, the map re-simplifies once per data version
#: (wards written by other tools, e.g. the benchmark's synthetic builder, keep ~20 m detail).
MAP_BYTES_BUDGET = 6_000_000


def map_geometries(store: Store) -> dict[str, str]:
    """ward_code -> GeoJSON geometry text to draw: the stored display copy, re-simplified if the
    whole set is too heavy to send to a browser, and rebuilt from the stored geometry if missing."""
    df = store.read("SELECT ward_code, geometry_display, geometry IS NULL AS no_geom FROM wards ORDER BY ward_code")
    if df.empty:
        return {}
    missing = df["geometry_display"].isna() & ~df["no_geom"]
    if missing.any():
        wkb = store.read("SELECT ward_code, geometry FROM wards WHERE geometry_display IS NULL AND geometry IS NOT NULL "
                         "ORDER BY ward_code")
        texts = shapely.to_geojson(_wkb_geoms(wkb["geometry"]))
        df.loc[missing, "geometry_display"] = df.loc[missing, "ward_code"].map(dict(zip(wkb["ward_code"], texts,
                                                                                        strict=True)))
    df = df.dropna(subset=["geometry_display"])
    if int(df["geometry_display"].str.len().sum()) > MAP_BYTES_BUDGET or missing.any():
        display, _ = display_geometries(shapely.from_geojson(df["geometry_display"].to_numpy()))
        return dict(zip(df["ward_code"], display, strict=True))
    return dict(zip(df["ward_code"], df["geometry_display"], strict=True))
