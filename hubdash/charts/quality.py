"""Data-quality charts: completeness, the missingness grid, response rates and the response mix.

Pure builders over the tables from `hubdash.quality`. Required questions are marked in their
labels ("(required)"), not only by colour, and every bar carries its value as text.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from hubdash.charts import COVERED, GAP, GAP_FILL, GRID, INK, NEUTRAL, style

REQUIRED_COLOUR = COVERED
OPTIONAL_COLOUR = "#56B4E9"  # palette sky blue: same hue family, lighter, and labelled in text
ANSWERED_COLOUR = GRID
MISSING_COLOUR = GAP
MAYBE_NONE_COLOUR = GAP_FILL  # blank where a blank can be an answer (languages, eligibility)
CONTACTED_COLOUR = NEUTRAL
RESPONDED_COLOUR = COVERED


def _pct(v: float) -> str:
    return "-" if pd.isna(v) else f"{v:.0%}"


def completeness_chart(comp: pd.DataFrame, *, presenter: bool = False, title: str | None = None) -> alt.Chart:
    """Share of services answering each question, least answered at the top.

    Args:
        comp: `quality.completeness(frame)`.
        presenter: larger type for a projector.
        title: chart title (default names the number of services).
    """
    df = comp.copy()
    df["Question"] = [f"{n}. {q}" + (" (required)" if r else "") for n, q, r in
                      zip(df["number"], df["question"], df["required"], strict=True)]
    df["Kind"] = ["Required" if r else "Optional" for r in df["required"]]
    df["Answered"] = df["share"].fillna(0.0)
    df["Label"] = [f"{_pct(s)}  ({a:,} of {n:,})" for s, a, n in zip(df["share"], df["answered"], df["services"],
                                                                       strict=True)]
    df["Note"] = df["note"].fillna("")
    df = df.sort_values(["Answered", "number"])
    order = df["Question"].tolist()
    n = int(comp["services"].iloc[0]) if len(comp) else 0
    y = alt.Y("Question:N", sort=order, title=None)
    base = alt.Chart(df)
    bars = base.mark_bar(size=24 if presenter else 20).encode(
        x=alt.X("Answered:Q", title="Share of services answering", scale=alt.Scale(domain=[0, 1.25]),
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
        y=y,
        color=alt.Color("Kind:N", title="Question", scale=alt.Scale(domain=["Required", "Optional"],
                                                                    range=[REQUIRED_COLOUR, OPTIONAL_COLOUR]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("Question:N"), alt.Tooltip("text:N", title="Survey question"),
                 alt.Tooltip("answered:Q", title="Answered", format=","),
                 alt.Tooltip("missing:Q", title="Blank", format=","),
                 alt.Tooltip("Answered:Q", title="Share", format=".0%"), alt.Tooltip("Note:N")],
    )
    labels = base.mark_text(align="left", dx=5, fontSize=18 if presenter else 14, color=INK).encode(
        x="Answered:Q", y=y, text="Label:N")
    chart = (bars + labels).properties(
        title=alt.Title(title or f"How complete is each answer? ({n:,} services)",
                        subtitle="Least answered at the top. Required questions are marked (required)."),
        height=alt.Step(34 if presenter else 28), width="container")
    return style(chart, presenter=presenter)


def missingness_chart(grid: pd.DataFrame, *, presenter: bool = False, note: str | None = None) -> alt.Chart:
    """Services x questions: each cell answered or blank; hover names the service and question.

    Args:
        grid: `quality.missingness_grid(frame)[0]` (rows already ordered by `row_order`).
        presenter: larger type.
        note: a subtitle, e.g. that only the worst services are shown.
    """
    df = grid.copy()
    df["Question"] = [q + (" (required)" if r else "") for q, r in zip(df["question"], df["required"], strict=True)]
    df["Answer"] = ["Answered" if s == "Answered" else ("Blank (can mean none)" if c else "Blank")
                    for s, c in zip(df["status"], df.get("can_mean_none", [False] * len(df)), strict=True)]
    q_order = df.drop_duplicates("number").sort_values("number")["Question"].tolist()
    s_order = df.drop_duplicates("service_id").sort_values("row_order")["service"].tolist()
    n_rows = len(s_order)
    show_labels = n_rows <= 60
    step = 18 if show_labels else max(3, min(10, 900 // max(n_rows, 1)))
    chart = alt.Chart(df).mark_rect(stroke="white", strokeWidth=0.5 if show_labels else 0).encode(
        x=alt.X("Question:N", sort=q_order, title=None, axis=alt.Axis(orient="top", labelAngle=-50, labelLimit=260)),
        y=alt.Y("service:N", sort=s_order, title=None if show_labels else f"{n_rows:,} services (hover for names)",
                axis=alt.Axis(labels=show_labels, ticks=show_labels, labelLimit=320)),
        color=alt.Color("Answer:N", title=None,
                        scale=alt.Scale(domain=["Answered", "Blank", "Blank (can mean none)"],
                                        range=[ANSWERED_COLOUR, MISSING_COLOUR, MAYBE_NONE_COLOUR]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("service:N", title="Service"), alt.Tooltip("Question:N"),
                 alt.Tooltip("status:N", title="Answer"), alt.Tooltip("blanks:Q", title="Blanks in this return")],
    ).properties(
        title=alt.Title("Which answers are blank?",
                        subtitle=note or ("One row per service, one column per question. Languages and eligibility "
                                          "are paler: a blank there can mean none.")),
        height=alt.Step(step), width="container")
    return style(chart, presenter=presenter)


def response_rate_chart(table: pd.DataFrame, *, category: str, overall: float | None = None,
                        presenter: bool = False, title: str = "Response rate") -> alt.Chart:
    """Share of contacted agencies that returned the survey, per sector or service area.

    Args:
        table: rows with `category`, contacted, responded, rate (from `Representativeness`).
        category: the label column ("Sector" or "Service area").
        overall: the overall rate, given in the subtitle.
    """
    df = table[table["contacted"] > 0].copy()
    df["Rate"] = df["rate"].fillna(0.0)
    df["Label"] = [f"{r} of {c} ({_pct(x)})" for r, c, x in zip(df["responded"], df["contacted"], df["rate"],
                                                                 strict=True)]
    y = alt.Y(f"{category}:N", sort=df[category].tolist(), title=None)
    base = alt.Chart(df)
    bars = base.mark_bar(color=RESPONDED_COLOUR, size=26 if presenter else 22).encode(
        x=alt.X("Rate:Q", title="Agencies that returned the survey", scale=alt.Scale(domain=[0, 1.35]),
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
        y=y,
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip("contacted:Q", title="Contacted"),
                 alt.Tooltip("responded:Q", title="Responded"), alt.Tooltip("Rate:Q", title="Rate", format=".0%")])
    labels = base.mark_text(align="left", dx=5, fontSize=18 if presenter else 14, color=INK).encode(
        x="Rate:Q", y=y, text="Label:N")
    subtitle = f"Overall: {overall:.0%} of agencies contacted returned the survey" \
        if overall is not None and not pd.isna(overall) else None
    chart = (bars + labels).properties(
        title=alt.Title(title, subtitle=subtitle) if subtitle else title,
        height=alt.Step(46 if presenter else 38), width="container")
    return style(chart, presenter=presenter)


def mix_chart(by_sector: pd.DataFrame, *, presenter: bool = False) -> alt.Chart:
    """Each sector's share of agencies contacted beside its share of responses.

    Args:
        by_sector: `Representativeness.by_sector`.
    """
    live = by_sector[by_sector["contacted"] > 0]
    rows = []
    for r in live.to_dict("records"):
        rows.append({"Sector": r["Sector"], "Group": "Contacted", "Share": r["share_contacted"],
                     "Label": f"{_pct(r['share_contacted'])} of contacted", "Agencies": r["contacted"]})
        rows.append({"Sector": r["Sector"], "Group": "Responded", "Share": r["share_responses"],
                     "Label": f"{_pct(r['share_responses'])} of responses", "Agencies": r["responded"]})
    df = pd.DataFrame(rows)
    df["Share"] = df["Share"].fillna(0.0)
    y = alt.Y("Sector:N", sort=live["Sector"].tolist(), title=None)
    base = alt.Chart(df)
    bars = base.mark_bar(size=18 if presenter else 15).encode(
        x=alt.X("Share:Q", title="Share of all agencies", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75])),
        y=y, yOffset=alt.YOffset("Group:N", sort=["Contacted", "Responded"]),
        color=alt.Color("Group:N", title=None, scale=alt.Scale(domain=["Contacted", "Responded"],
                                                               range=[CONTACTED_COLOUR, RESPONDED_COLOUR]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("Sector:N"), alt.Tooltip("Group:N"), alt.Tooltip("Agencies:Q"),
                 alt.Tooltip("Share:Q", format=".0%")])
    labels = base.mark_text(align="left", dx=5, fontSize=16 if presenter else 13, color=INK).encode(
        x="Share:Q", y=y, yOffset=alt.YOffset("Group:N", sort=["Contacted", "Responded"]), text="Label:N")
    chart = (bars + labels).properties(
        title=alt.Title("Who was contacted, and who replied", subtitle="Each sector's share of agencies contacted "
                        "(grey) and of responses (blue)"),
        height=alt.Step(24 if presenter else 20), width="container")
    return style(chart, presenter=presenter)


def issue_counts_chart(counts: pd.DataFrame, *, presenter: bool = False) -> alt.Chart:
    """Services hit by each clarity rule, in rule order, with the count printed on each bar.

    Args:
        counts: `QualityReport.issue_counts()` rows (Rule, Services, Errors, Warnings).
    """
    df = counts.copy()
    df["Label"] = [f"{n:,}" for n in df["Services"]]
    y = alt.Y("Rule:N", sort=df["Rule"].tolist(), title=None)
    top = max(int(df["Services"].max()) if len(df) else 0, 1)
    base = alt.Chart(df)
    bars = base.mark_bar(color=COVERED, size=26 if presenter else 22).encode(
        x=alt.X("Services:Q", title="Services", scale=alt.Scale(domain=[0, top * 1.1]),
                axis=alt.Axis(tickMinStep=1, tickCount=min(top, 6), format="d")),
        y=y,
        tooltip=[alt.Tooltip("Rule:N"), alt.Tooltip("Services:Q"), alt.Tooltip("Errors:Q"),
                 alt.Tooltip("Warnings:Q")])
    labels = base.mark_text(align="left", dx=5, fontSize=18 if presenter else 14, color=INK).encode(
        x="Services:Q", y=y, text="Label:N")
    chart = (bars + labels).properties(
        title=alt.Title("Answers worth a call", subtitle="Services with each kind of unclear or inconsistent answer"),
        height=alt.Step(46 if presenter else 38), width="container")
    return style(chart, presenter=presenter)
