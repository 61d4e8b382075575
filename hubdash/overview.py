"""Simple distributions used on Home (the fuller prevalence analysis lives with the gap maps)."""

from __future__ import annotations

import pandas as pd

from hubdash import schema


def services_by_area(frame: pd.DataFrame) -> pd.DataFrame:
    """Services per Start for Life area (a service in two areas counts in both)."""
    counts = {o.code: 0 for o in schema.SERVICE_AREAS}
    for areas in frame["service_areas"]:
        for a in areas:
            if a in counts:
                counts[a] += 1
    return pd.DataFrame({"Service area": [schema.area_label(c) for c in counts], "Services": list(counts.values())})
