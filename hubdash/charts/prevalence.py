"""Prevalence and distribution charts (the guide's template 2): one bar per answer.

Built on `charts.bar_chart`, so every bar carries its number; ordered questions (age groups,
target levels) keep the survey's order so the shape of the offer across ages reads left to
right as the guide's maps do, and "Not answered" always comes last.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from hubdash.charts import bar_chart
from hubdash.prevalence import DIMENSIONS, NOT_ANSWERED


def distribution_chart(
    dist: pd.DataFrame,
    *,
    question: str,
    subtitle: str | None = None,
    presenter: bool = False,
) -> alt.Chart:
    """Bars of `Total` per answer for one template 2 distribution.

    Args:
        dist: From `prevalence.distribution(frame, question=...)`.
        question: The same question code (a key of `prevalence.DIMENSIONS`).
        subtitle: A line under the title, e.g. the main finding.
        presenter: Larger type for a projector.
    """
    dim = DIMENSIONS[question]
    col = dim.heading
    answers = dist[dist[col] != NOT_ANSWERED]
    if not dim.ordered:
        answers = answers.sort_values("Total", ascending=False, kind="stable")
    order = [*answers[col], *([NOT_ANSWERED] if (dist[col] == NOT_ANSWERED).any() else [])]
    data = dist.assign(share_text=[f"{s:.0%}" for s in dist["Share"]])
    chart = bar_chart(
        data, category=col, value="Total", title=dim.title, subtitle=subtitle, value_title="Services and interventions",
        sort=order, presenter=presenter,
        tooltip=[alt.Tooltip(f"{col}:N", title=col), alt.Tooltip("Services:Q"), alt.Tooltip("Interventions:Q"),
                 alt.Tooltip("Total:Q"), alt.Tooltip("share_text:N", title="Share of all")],
    )
    # Every bar prints its number, so a few ticks on the value axis are enough (less clutter).
    return chart.configure_axisX(tickCount=5)
