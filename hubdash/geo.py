"""Ward geometry: stored as WKB (lon/lat, EPSG:4326), with a simplified GeoJSON copy for display.

Geometry work stays in shapely/geopandas rather than DuckDB's spatial extension: that extension
cannot be downloaded on our machines and its PyPI build pins an older DuckDB (see
`../shared/notes/stack-recipes.md`). WKB in a BLOB column round-trips losslessly through
`shapely.from_wkb`, and the display copy means a map of 7,681 wards never re-simplifies on a
rerun.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

import pandas as pd

from hubdash.schema import normalise

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
BNG = "EPSG:27700"  # British National Grid: metres, for areas and distances in England
WGS84 = "EPSG:4326"
#: Display tolerance in degrees (~20 m): invisible at ward scale, shrinks files many times over.
DISPLAY_TOLERANCE = 0.0002


def display_geojson(geom: BaseGeometry, tolerance: float = DISPLAY_TOLERANCE) -> str:
    """Simplified GeoJSON geometry text for maps (coordinates rounded to 5 dp, about 1 m)."""
    simple = geom.simplify(tolerance, preserve_topology=True)
    if simple.is_empty:
        simple = geom
    return json.dumps(shapely.geometry.mapping(shapely.set_precision(simple, 1e-5)))


def ward_rows(items: Iterable[tuple[str, str, str | None, BaseGeometry]], *, source: str) -> list[tuple]:
    """Rows for the `wards` table from (code, name, locality, lon/lat geometry)."""
    items = list(items)
    if not items:
        return []
    gs = gpd.GeoSeries([g for *_, g in items], crs=WGS84)
    areas = gs.to_crs(BNG).area / 1e6
    reps = gs.representative_point()
    rows = []
    for (code, name, loc, geom), area, rep in zip(items, areas, reps, strict=True):
        rows.append((
            str(code), str(name), normalise(name), loc, shapely.to_wkb(geom), display_geojson(geom),
            float(area), float(rep.x), float(rep.y), source,
        ))
    return rows


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in kilometres."""
    import math

    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def service_ward_links(store) -> pd.DataFrame:  # noqa: ANN001
    """(service_id, ward_code) for every ward each service covers.

    A service answering "Whole local authority" covers every ward in the ward table; named wards
    match a ward's code or its name, case-, space- and punctuation-insensitively. Answers that
    match no ward are left out here (Data quality lists them).
    """
    return store.read(
        """SELECT s.service_id, w.ward_code FROM services s CROSS JOIN wards w WHERE s.whole_la
           UNION
           SELECT sw.service_id, w.ward_code FROM service_wards sw JOIN wards w ON sw.ward_key = w.name_key
           UNION
           SELECT sw.service_id, w.ward_code FROM service_wards sw JOIN wards w ON sw.ward_key = lower(w.ward_code)""")
    # Two equi-joins, not one join on `a OR b`: DuckDB turns an OR condition into a nested-loop
    # join (2.7 s at 20,000 services x 7,681 wards; 0.05 s as two hash joins).


def haversine_matrix(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) between every first point (rows) and every second (columns)."""
    p1, p2 = np.radians(lat1)[:, None], np.radians(lat2)[None, :]
    dl = np.radians(lon2)[None, :] - np.radians(lon1)[:, None]
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def nearest_points(lon: np.ndarray, lat: np.ndarray, plon: np.ndarray, plat: np.ndarray,
                   *, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(distance km, index) of the nearest of the points (plon, plat) to each (lon, lat).

    Vectorised in chunks of `chunk` origins, so 7,681 wards against a thousand sites stays a
    few tens of megabytes. With no points, distances are NaN and indexes -1.
    """
    n = len(lon)
    dist = np.full(n, np.nan)
    idx = np.full(n, -1)
    if n == 0 or len(plon) == 0:
        return dist, idx
    for i in range(0, n, chunk):
        d = haversine_matrix(np.asarray(lon[i:i + chunk], float), np.asarray(lat[i:i + chunk], float),
                             np.asarray(plon, float), np.asarray(plat, float))
        j = d.argmin(axis=1)
        idx[i:i + chunk] = j
        dist[i:i + chunk] = d[np.arange(len(j)), j]
    return dist, idx
