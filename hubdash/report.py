"""The mapping report (the guide's template 3) as HTML, PDF and Word, built from the live data.

`build_report` gathers every section once: sentences, tables (formatted text) and charts
(PNG images rendered offline). The renderers only lay that content out, so the HTML, the PDF,
the Word file and the slide deck (`hubdash.slides`) always say the same thing.

* HTML: one self-contained file (images as data URIs), rendered by Jinja2 with autoescaping on,
  so survey text can never inject markup.
* PDF: the same HTML printed by WeasyPrint. Chosen over LibreOffice because it renders the one
  HTML layout we already test (LibreOffice would convert the Word file into a third layout and
  adds about 400 MB of Debian packages); WeasyPrint is a PyPI wheel that needs only Pango,
  which Debian's chromium already pulls in (`make browser` installs it explicitly).
* Word: python-docx, real headings, pictures and tables.

No section reads contact names or emails: every table comes from aggregate functions or from
`services.labelled(..., personal=False)`.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import numbers
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import pandas as pd

from hubdash import schema
from hubdash.errors import HubdashError
from hubdash.schema import Filters
from hubdash.services import filter_frame, service_frame
from hubdash.store import Store

PRIVACY = ("This report contains no personal data: the contact names and email addresses collected by the "
           "survey (questions 24 and 25) are left out of every figure, table and sentence.")


class ReportError(HubdashError):
    title = "The report could not be written"


# --- editable text (saved in the `report_text` table) ---------------------------------------------


@dataclass(frozen=True)
class ReflectionQuestion:
    number: int
    text: str
    examples: tuple[str, ...] = ()


#: The guide's step 6 "Pause and reflect" questions and its closing reflections, in order.
REFLECTION_QUESTIONS: tuple[ReflectionQuestion, ...] = (
    ReflectionQuestion(1, "Considering what you know about your local population needs, is there enough support "
                          "provided in the area?",
                       ("Considering what you know about local breastfeeding rates, is there enough support for "
                        "breastfeeding in the area?",
                        "Considering what you know about mental health among parents in the local area, are there "
                        "enough services and interventions to support parents' mental health?")),
    ReflectionQuestion(2, "Are services and interventions available across all relevant age groups?",
                       ("Is mental health support available to children of all ages?",)),
    ReflectionQuestion(3, "Are all families included in services and interventions?",
                       ("Are there enough services and interventions available for families of children with "
                        "special educational needs and disabilities?",
                        "Are services designed to support the needs of minority ethnic families in the local area?",
                        "Are families across the whole geographical area able to access services and "
                        "interventions?")),
    ReflectionQuestion(4, "Do you feel you now have a full picture of the services available to families?"),
    ReflectionQuestion(5, "Did you encounter any surprises or different perspectives when doing your service mapping?"),
    ReflectionQuestion(6, "What are the strengths in your current offer?"),
    ReflectionQuestion(7, "Have you been able to identify groups whose needs are not currently met?"),
    ReflectionQuestion(8, "Has your stakeholder workshop helped to develop a shared understanding of priorities for "
                          "local commissioning?"),
    ReflectionQuestion(9, "Were you able to build REDIE into each step in the mapping process?"),
    ReflectionQuestion(10, "Do you have some clear next steps for developing your Family Hub approach?"),
)

#: Editable fields: key -> (label, help). Only these keys are ever read from or written to the table.
TEXT_FIELDS: dict[str, tuple[str, str]] = {
    "title": ("Report title", "The title on the cover and the first slide."),
    "scope": ("Scope", "Which services, ages and area the mapping covers, and when the survey ran."),
    "purpose": ("Purpose", "Why you mapped support for families and what the workshop should decide."),
    "strengths_note": ("Strengths: your commentary", "What the group sees as strengths, beside the figures."),
    "gaps_note": ("Gaps: your commentary", "Which gaps matter most locally, and why."),
    "duplications_note": ("Duplications: your commentary", "Which overlaps are real duplication and which are choice."),
    **{f"reflect_{q.number}_notes": (f"Question {q.number}: what we think", q.text) for q in REFLECTION_QUESTIONS},
    **{f"reflect_{q.number}_actions": (f"Question {q.number}: actions", "Who will do what, by when.")
       for q in REFLECTION_QUESTIONS},
}
MAX_TEXT = 4000


def default_text(store: Store) -> dict[str, str]:
    """Starting text for the title, scope and purpose, from the data (editable in the app)."""
    place = store.meta("la_name") or "our area"
    date = store.meta("data_date")
    return {
        "title": f"Mapping support for families in {place}",
        "scope": (f"Services and interventions for expectant parents and families with children and young people "
                  f"up to 25 in {place}, as described by the organisations that returned the provider survey"
                  + (f" (data as of {date})." if date else ".")),
        "purpose": ("To see the balance of support on offer across outcomes, ages and target levels; to find gaps "
                    "and duplication; to check whether all families are included (REDIE); and to agree, with "
                    "senior leaders and commissioners, what should change."),
    }


def load_text(store: Store) -> dict[str, str]:
    """Every editable field: the saved text, else the default (blank for commentary and actions)."""
    saved = {k: v for k, v in store.rows("SELECT key, value FROM report_text") if k in TEXT_FIELDS}
    out = {k: "" for k in TEXT_FIELDS}
    out.update(default_text(store))
    out.update({k: v for k, v in saved.items() if v is not None})
    return out


def save_text(store: Store, values: Mapping[str, str]) -> int:
    """Save edited fields (unknown keys refused); returns how many were saved.

    A field saved empty stays empty (it does not fall back to the default), except the title,
    which a report always needs.
    """
    unknown = sorted(set(values) - set(TEXT_FIELDS))
    if unknown:
        raise ReportError(f"Unknown report field(s): {', '.join(unknown)}. Use one of the fields on Reflect and act.",
                          title="Report text not saved")
    rows = []
    for key, value in values.items():
        text = str(value or "").strip()
        if len(text) > MAX_TEXT:
            raise ReportError(f"'{TEXT_FIELDS[key][0]}' is {len(text):,} characters; keep it under {MAX_TEXT:,}.",
                              title="Report text not saved")
        if key == "title" and not text:
            raise ReportError("The report needs a title.", title="Report text not saved")
        rows.append((key, text))
    with store.write() as cur:
        for key, text in rows:
            cur.execute("INSERT OR REPLACE INTO report_text VALUES (?, ?)", [key, text])
    return len(rows)


# --- content -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A chart rendered to PNG, with a text alternative."""

    title: str
    png: bytes
    alt: str

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels, read from the PNG header."""
        w, h = struct.unpack(">II", self.png[16:24])
        return int(w), int(h)

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class Table:
    """A table as text cells (already formatted), with a caption."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, caption: str, frame: pd.DataFrame, *, percent: Sequence[str] = ()) -> Table:
        def fmt(col: str, v: object) -> str:
            if v is None or (isinstance(v, float) and pd.isna(v)):
                return ""
            if isinstance(v, bool):
                return "Yes" if v else "No"
            if col in percent and isinstance(v, numbers.Real):
                return f"{float(v):.0%}"
            if isinstance(v, numbers.Integral):
                return f"{int(v):,}"
            if isinstance(v, numbers.Real):
                return f"{float(v):,.0f}" if float(v).is_integer() else f"{float(v):,.1f}"
            return str(v)

        rows = tuple(tuple(fmt(c, v) for c, v in zip(frame.columns, r, strict=True))
                     for r in frame.itertuples(index=False))
        return cls(caption, tuple(str(c) for c in frame.columns), rows)

    @property
    def numeric(self) -> tuple[bool, ...]:
        """Per column: every non-blank cell is a number (right-aligned when drawn)."""
        def is_num(v: str) -> bool:
            return bool(v) and v.replace(",", "").replace("%", "").replace(".", "", 1).lstrip("-").isdigit()

        return tuple(all(is_num(r[i]) for r in self.rows if r[i]) and any(r[i] for r in self.rows)
                     for i in range(len(self.columns)))

    def lines(self, *, limit: int = 12) -> list[str]:
        """The table as short lines for speaker notes."""
        out = [" · ".join(f"{c}: {v}" for c, v in zip(self.columns, r, strict=True) if v) for r in self.rows[:limit]]
        if len(self.rows) > limit:
            out.append(f"... and {len(self.rows) - limit} more rows")
        return out


@dataclass(frozen=True)
class Finding:
    """One headline with what backs it: a chart, a table, bullets, and the numbers for notes."""

    headline: str
    figure: Figure | None = None
    table: Table | None = None
    bullets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    body: tuple[str, ...] = ()

    def speaker_notes(self) -> str:
        parts = [*self.body, *self.notes, *[b for b in self.bullets if b not in self.notes]]
        if self.table is not None:
            parts += [self.table.caption, *self.table.lines()]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    intro: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    note: str = ""
    note_label: str = ""


@dataclass(frozen=True)
class Reflection:
    question: ReflectionQuestion
    suggests: str
    notes: str
    actions: str


@dataclass(frozen=True)
class Report:
    """Everything every export shows."""

    title: str
    place: str
    data_date: str
    filters: str
    generated: str
    demo: bool
    sections: tuple[Section, ...]
    reflections: tuple[Reflection, ...]
    privacy: str = PRIVACY

    @property
    def facts(self) -> list[str]:
        """The lines every export states: data date, filters, no personal data."""
        out = [f"Survey data as of {self.data_date}", f"Filters: {self.filters}", f"Prepared {self.generated}"]
        if self.demo:
            out.append("Demo data: a fictional borough, no real services or people")
        return out


# --- charts to PNG -----------------------------------------------------------------------------------


def _compact_png(png: bytes) -> bytes:
    """The same image, losslessly recompressed on white (vl-convert's PNGs are about 6x larger)."""
    from PIL import Image

    im = Image.open(io.BytesIO(png))
    if im.mode in ("RGBA", "LA"):
        flat = Image.new("RGB", im.size, "white")
        flat.paste(im, mask=im.getchannel("A"))
        im = flat
    out = io.BytesIO()
    im.save(out, "PNG", compress_level=6)
    return out.getvalue()


@dataclass(frozen=True)
class _Context:
    """What every section needs: the store, the filter, the services in and out of view."""

    store: Store
    filters: Filters
    all_services: pd.DataFrame
    frame: pd.DataFrame
    data_date: str | None

    def figure(self, chart: alt.TopLevelMixin, title: str, alt_text: str, *, filters: str | None = None) -> Figure:
        """The chart as a PNG with its caption (title, filters, data date) printed under it."""
        from hubdash.exports import Caption, chart_png

        caption = Caption(title=title, filters=filters or self.filters.describe(), data_date=self.data_date)
        return Figure(title=title, png=_compact_png(chart_png(chart, caption=caption)), alt=alt_text)


# --- the sections -------------------------------------------------------------------------------------


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _method(c: _Context) -> Section:
    from hubdash.charts.quality import response_rate_chart
    from hubdash.quality import representativeness

    orgs = c.frame["organisation"].dropna().str.strip().str.lower()
    n_orgs = int(orgs[orgs != ""].nunique())
    intro = (
        "Organisations that deliver support for families were asked to complete the provider survey (the guide's "
        "template 1: 25 questions on each service or intervention, its outcomes, ages, target level, format, "
        "where it is delivered, who it is adapted for and its capacity). Returns were loaded into hubdash, checked "
        "for missing, unclear and duplicated answers, and analysed with the counting rules stated under each "
        "figure.",
        f"This report covers {_plural(len(c.frame), 'service or intervention', 'services and interventions')} from "
        f"{_plural(n_orgs, 'organisation')} ({c.filters.describe()}).",
    )
    rep = representativeness(c.store, area=c.filters.area)
    if rep is None or not rep.contacted:
        return Section("method", "Method and response rate", intro, (
            Finding("No contacted-agencies list was loaded, so the response rate is not known.",
                    body=("Add the list of organisations contacted on Survey ingestion to report it.",)),))
    table = rep.by_sector[["Sector", "contacted", "responded", "rate"]].rename(
        columns={"contacted": "Contacted", "responded": "Responded", "rate": "Response rate"})
    chart = response_rate_chart(rep.by_sector, category="Sector", overall=rep.rate, title="Response rate by sector")
    return Section("method", "Method and response rate", intro, (Finding(
        f"{rep.responded} of {rep.contacted} agencies contacted returned the survey ({rep.rate:.0%}).",
        figure=c.figure(chart, "Response rate by sector", "Bar chart of the share of agencies contacted in each "
                                                          "sector that returned the survey."),
        table=Table.of("Response by sector", table, percent=("Response rate",)),
        bullets=(rep.reading,),
        notes=(f"Contacted {rep.contacted}, responded {rep.responded}, rate {rep.rate:.0%}.",)),))


def _quality(c: _Context) -> Section:
    from hubdash.charts.quality import completeness_chart
    from hubdash.quality import build_report as quality_report

    if c.frame.empty:
        return Section("quality", "Data quality", ("No survey returns match this filter.",))
    q = quality_report(c.store, c.frame, area=c.filters.area, all_services=c.all_services)
    req = q.completeness[q.completeness["required"]]
    score = q.score.table()[["Part", "Value", "Points", "How it is measured"]]
    counts = q.issue_counts()
    counts = counts[counts["Services"] > 0][["Rule", "Services", "Errors", "Warnings"]]
    flagged = int(q.issues["service_id"].nunique()) if not q.issues.empty else 0
    chart = completeness_chart(q.completeness, title="How many services answered each question")
    findings = (
        Finding(f"Data-quality score: {q.score.value} out of 100.",
                table=Table.of("How the score is made up", score),
                bullets=tuple(x for x in (q.score.note, *q.notes) if x),
                notes=tuple(f"{p.name}: {p.value:.0%} × {p.weight:.0f} = {p.points:.1f} points"
                            for p in q.score.parts)),
        Finding(f"{flagged} of {_plural(q.services, 'service')} have at least one answer to check.",
                figure=c.figure(chart, "How many services answered each question",
                                "Bar chart of the share of services answering each of the 25 survey questions, "
                                "least answered first."),
                table=Table.of("Issues found, by check", counts) if len(counts) else None,
                notes=tuple(f"{r.question}: {r.share:.0%} answered (required)" for r in req.itertuples())),
    )
    return Section("quality", "Data quality", (
        "How complete, representative and clear the returns are (the guide's step 3). Gaps in the map can be "
        "gaps in the data: read the figures that follow with these caveats in mind.",), findings)


def _prevalence(c: _Context) -> Section:
    from hubdash.charts.prevalence import distribution_chart
    from hubdash.prevalence import DIMENSIONS, distribution, distribution_findings

    findings = []
    for question in ("age_groups", "target_level", "primary_outcome", "format"):
        dim = DIMENSIONS[question]
        dist = distribution(c.frame, question=question)
        lines = distribution_findings(dist, question=question, services=len(c.frame))
        chart = distribution_chart(dist, question=question)
        findings.append(Finding(
            lines[0], figure=c.figure(chart, dim.title, f"Bar chart: {dim.title.lower()}; the table gives the counts."),
            table=Table.of(dim.title, dist[[dim.heading, "Services", "Interventions", "Total", "Share"]],
                           percent=("Share",)),
            bullets=tuple(lines[1:]), notes=tuple(lines)))
    return Section("prevalence", "Prevalence and distribution", (
        "How many services and interventions there are for each age group, target level, outcome and format "
        "(template 2). A service counts once under each answer it gave, so multi-answer columns can add up to "
        "more than the number of services.",), tuple(findings))


def _gap_maps(c: _Context) -> Section:
    from hubdash.charts.gapmap import gap_map_chart
    from hubdash.gapmap import GapOptions, gap_cells, gap_summary
    from hubdash.summary import largest_gaps

    options = GapOptions(focus="Early years (pre-birth to 5)")
    areas = [c.filters.area] if c.filters.area else [o.code for o in schema.SERVICE_AREAS]
    findings = []
    for area in areas:
        f = Filters(area=area, level=c.filters.level, kind=c.filters.kind)
        frame = filter_frame(c.all_services, f)
        label = schema.area_label(area)
        summary = gap_summary(frame, options, n=3)
        cells = gap_cells(frame, options)
        title = f"Gap map: {label}"
        chart = gap_map_chart(cells, title=title, selectable=False)
        # Lead with the area's own outcome (infant feeding's map: infant feeding's longest gap).
        runs = largest_gaps(frame, n=len(schema.OUTCOMES) * 3 * len(options.ages), ages=options.ages)
        own = [g for g in runs if g["outcome"] == area]
        lead = ((own or runs)[0]["sentence"] + "." if runs
                else "Every outcome has some support at every early-years age.")
        per = cells.groupby(["target_level", "outcome", "age_group"], sort=False)["count"].sum().reset_index()
        table = pd.DataFrame([{"Target level": schema.LEVEL_SHORT[lv], "Outcome × age cells": len(g),
                               "Empty": int((g["count"] == 0).sum())}
                              for lv, g in per.groupby("target_level", sort=False)])
        findings.append(Finding(
            f"{label}: {lead[0].lower()}{lead[1:]}",
            figure=c.figure(chart, title, f"Gap map for {label}: outcomes by target level down the side, age bands "
                                          "across, services and interventions side by side; each cell gives the "
                                          "number of services or 'gap'.",
                            filters=f.describe() + "; " + options.describe()),
            table=Table.of(f"Empty cells in the {label.lower()} map, pre-birth to 5", table),
            bullets=tuple(line.rstrip(".") + "." for line in summary.lines()),
            notes=(f"{len(frame)} services and interventions in {label}.",
                   f"{summary.empty_cells} of {summary.cells} outcome × age × level cells are empty.")))
    return Section("gaps_by_area", "Gap maps by service area", (
        "One map per Start for Life service area, pre-birth to 5 (the guide's template 6). A service counts once "
        "in each age band it covers, in the row of its primary outcome, at its target level.",), tuple(findings))


#: Wards further than this from a place offering the services are flagged (the page's default).
COVERAGE_KM = 2.0


def _coverage(c: _Context) -> Section:
    from hubdash import coverage
    from hubdash.charts import maps
    from hubdash.geoload import map_geometries

    heading = "Geographic coverage"
    if coverage.ward_count(c.store) == 0:
        return Section("coverage", heading, ("No ward boundaries are loaded, so coverage cannot be mapped.",))
    cov = coverage.coverage_table(c.store, c.frame, max_km=COVERAGE_KM)
    wards, meta = coverage.needs_latest(c.store)
    view = maps.coverage_map(cov, meta, map_geometries(c.store), coverage.delivery_points(c.store, c.frame),
                             measure="services")
    lines = coverage.findings(cov, max_km=COVERAGE_KM)
    chart = maps.static_map(view.geometries, view.rows, view.colours, view.legend_raw, title=view.title)
    least = cov.sort_values(["services", "ward_name"], kind="stable")
    low = least.head(3)
    table = least[["ward_name", "services"]].rename(columns={"ward_name": "Ward", "services": "Services"})
    median = float(cov["services"].median())
    return Section("coverage", heading, (
        "Where services say they work (question 13). A service answering 'Whole local authority' counts in every "
        "ward, which can overstate local reach for venue-based services.",), (
        Finding(f"Least coverage: {_join([f'{r.ward_name} ({r.services})' for r in low.itertuples()])}; "
                f"the median ward has {median:g} services.",
                figure=c.figure(chart, f"Map: {view.title}", view.alt),
                table=Table.of("Services covering each ward, fewest first", table),
                bullets=tuple(lines),
                notes=(f"{len(cov)} wards, median {median:g} services per ward.", *lines)),))


def _redie(c: _Context) -> Section:
    from hubdash.charts.redie import group_area_chart
    from hubdash.redie import answer_summary, areas_for, group_area_matrix, reflections

    heading = "REDIE: are all families included?"
    if c.frame.empty:
        return Section("redie", heading, ("No services match this filter.",))
    a = answer_summary(c.frame)
    cells = group_area_matrix(c.frame, areas=areas_for(c.filters))
    chart = group_area_chart(cells, title="Services adapted for each group, by service area")
    wide = cells.pivot_table(index="group_label", columns="column_label", values="services", aggfunc="sum",
                             sort=False).reset_index().rename(columns={"group_label": "Group"})
    wide.columns = [str(col) for col in wide.columns]
    first = Finding(
        f"{a.adapted} of {_plural(a.total, 'service')} are designed or adapted for at least one group of families.",
        figure=c.figure(chart, "Services adapted for each group", "Heatmap: groups of families down the side, "
                                                                  "service areas across; 'none' marks an empty cell."),
        table=Table.of("Services adapted for each group (question 21)", wide),
        notes=(f"Adapted: {a.adapted}; 'None' only: {a.none_only}; not answered: {a.not_answered}.",))
    others = tuple(Finding(r.prompt, bullets=(r.suggests,), notes=(r.suggests, *r.caveats))
                   for r in reflections(c.store, c.frame, filters=c.filters))
    return Section("redie", heading, (
        "Race equality, diversity, inclusion and equity: which families the offer is designed or adapted for "
        "(question 21), in which languages, and where. Counts show what providers say, not who uses a service.",),
        (first, *others))


def _strengths(c: _Context, note: str) -> Section:
    from hubdash.gapmap import LEVEL_CODES, MAP_OUTCOMES, gap_grid, outcome_phrase
    from hubdash.summary import EARLY_YEARS

    grid = gap_grid(c.frame, ages=EARLY_YEARS, outcomes=MAP_OUTCOMES)
    per = grid.groupby(["outcome", "target_level", "age_group"], sort=False)["count"].sum().reset_index()
    covered = per.assign(has=per["count"] > 0).groupby("outcome", sort=False)["has"].agg(["sum", "size"])
    covered = covered[covered["sum"] > 0].sort_values("sum", ascending=False, kind="stable")
    lines = []
    for outcome, r in covered.head(3).iterrows():
        levels = per[(per["outcome"] == outcome) & (per["count"] > 0)]["target_level"].unique()
        lines.append(f"Support to improve {outcome_phrase(outcome)} covers {int(r['sum'])} of {int(r['size'])} "
                     f"level × age cells from pre-birth to 5, at {len(levels)} of {len(LEVEL_CODES)} target levels.")
    is_int = c.frame["kind"] == "intervention"
    ints, rated = int(is_int.sum()), int((is_int & (c.frame["evidence"] == "guidebook")).sum())
    if rated:
        lines.append(f"{rated} of {_plural(ints, 'intervention')} are rated in the Foundations Guidebook.")
    head = lines[0] if lines else "No outcome has support from pre-birth to 5 in this view."
    return Section("strengths", "Strengths", (
        "Where the offer is broadest: outcomes with support across the most target levels and early-years ages.",),
        (Finding(head, bullets=tuple(lines[1:]), notes=tuple(lines)),), note=note,
        note_label="What the group sees as strengths")


def _gaps(c: _Context, note: str) -> Section:
    from hubdash import coverage
    from hubdash.redie import GROUP_LABELS, answer_summary
    from hubdash.summary import largest_gaps, outcomes_without_interventions

    lines = [g["sentence"] + "." for g in largest_gaps(c.frame, n=5)]
    missing = outcomes_without_interventions(c.frame)
    if missing:
        lines.append("No intervention aims to " + _join([schema.label("primary_outcome", o).lower()
                                                          for o in missing]) + ".")
    if not c.frame.empty:
        a = answer_summary(c.frame)
        if a.groups_without:
            lines.append("No service is adapted for " + _join([GROUP_LABELS[g] for g in a.groups_without]) + ".")
    if coverage.ward_count(c.store):
        cov = coverage.coverage_table(c.store, c.frame)
        low = cov.sort_values(["services", "ward_name"], kind="stable").iloc[0]
        lines.append(f"The ward with least coverage is {low['ward_name']} "
                     f"({_plural(int(low['services']), 'service')}).")
    head = lines[0] if lines else "No gaps found in this view."
    return Section("gaps", "Gaps", (
        "The longest runs of early-years ages with nothing on offer, outcomes with no intervention, groups with no "
        "adapted service and the least-covered ward.",),
        (Finding(head, bullets=tuple(lines[1:]), notes=tuple(lines)),), note=note,
        note_label="Which gaps matter most locally")


def _duplications(c: _Context, note: str) -> Section:
    from hubdash.gapmap import GapOptions, crowded_cells, gap_cells
    from hubdash.quality import build_report as quality_report

    crowded = [x["sentence"] + "." for x in crowded_cells(gap_cells(c.frame, GapOptions()), n=5)]
    pairs = quality_report(c.store, c.frame, area=c.filters.area, all_services=c.all_services).duplicates \
        if not c.frame.empty else pd.DataFrame()
    table = None
    if len(pairs):
        names = c.all_services.set_index("service_id")["name"]
        rows = pd.DataFrame({
            "Service": [names.get(int(a), "") for a in pairs["a_id"]],
            "Possible duplicate": [names.get(int(b), "") for b in pairs["b_id"]],
            "Why": pairs["reason"].to_numpy() if "reason" in pairs.columns else "",
        })
        table = Table.of("Likely duplicate records (the same service entered twice?)", rows)
    head = (f"{_plural(len(pairs), 'pair')} of returns look like the same service entered twice."
            if len(pairs) else "No returns look like the same service entered twice.")
    return Section("duplications", "Duplications", (
        "Crowded cells (many services for the same outcome, age and level) may be real choice or overlap; likely "
        "duplicate records are returns that describe the same service twice.",),
        (Finding(head, table=table, bullets=tuple(crowded), notes=(head, *crowded)),), note=note,
        note_label="Overlap or choice? The group's view")


def _need_vs_provision(c: _Context) -> str:
    """Wards with high need and low provision (deprivation against services), or '' without the data."""
    from hubdash import coverage

    if not coverage.ward_count(c.store):
        return ""
    cov = coverage.coverage_table(c.store, c.frame)
    if "imd_score" not in cov or cov["imd_score"].isna().all():
        return ""
    classes = coverage.bivariate_classes(cov, need="imd_score", provision=coverage.provision_for_bivariate(cov))
    lines = [x for x in coverage.findings(cov, bivariate=classes) if "high need with low provision" in x]
    return (lines[0].rstrip(".") + " (deprivation score against services).") if lines else \
        "No ward combines high deprivation with low provision."


def _reflections(c: _Context, text: Mapping[str, str], strengths: Section, gaps: Section) -> tuple[Reflection, ...]:
    from hubdash.redie import reflections

    suggests: dict[int, str] = {1: _need_vs_provision(c)}
    if not c.frame.empty:
        by_prompt = {r.prompt: r.suggests for r in reflections(c.store, c.frame, filters=c.filters)}
        suggests[2] = by_prompt.get(REFLECTION_QUESTIONS[1].text, "")
        suggests[3] = by_prompt.get(REFLECTION_QUESTIONS[2].text, "")
    if strengths.findings:
        suggests[6] = strengths.findings[0].headline
    if gaps.findings:
        suggests[7] = " ".join(b for b in gaps.findings[0].bullets if b.startswith("No service is adapted")) or \
            gaps.findings[0].headline
    return tuple(Reflection(q, suggests.get(q.number, ""), text.get(f"reflect_{q.number}_notes", ""),
                            text.get(f"reflect_{q.number}_actions", "")) for q in REFLECTION_QUESTIONS)


def _context(store: Store, filters: Filters | None) -> _Context:
    filters = (filters or Filters()).validated()
    all_services = service_frame(store)
    return _Context(store, filters, all_services, filter_frame(all_services, filters), store.meta("data_date"))


def reflection_rows(store: Store, *, filters: Filters | None = None) -> tuple[Reflection, ...]:
    """The reflection questions with what the data suggests and the saved answers (no charts drawn)."""
    c = _context(store, filters)
    return _reflections(c, load_text(store), _strengths(c, ""), _gaps(c, ""))


def build_report(store: Store, *, filters: Filters | None = None, today: dt.date | None = None) -> Report:
    """Gather every section of the report for `filters` (the global filter; None = everything)."""
    c = _context(store, filters)
    text = load_text(store)
    scope = Section("scope", "Scope and purpose", (), (
        Finding("Scope", body=tuple(p for p in text["scope"].split("\n") if p.strip())),
        Finding("Purpose", body=tuple(p for p in text["purpose"].split("\n") if p.strip()))))
    strengths = _strengths(c, text["strengths_note"])
    gaps = _gaps(c, text["gaps_note"])
    sections = (scope, _method(c), _quality(c), _prevalence(c), _gap_maps(c), _coverage(c), _redie(c), strengths,
                gaps, _duplications(c, text["duplications_note"]))
    return Report(
        title=text["title"], place=store.meta("la_name") or "", data_date=c.data_date or "not recorded",
        filters=c.filters.describe(), generated=(today or dt.date.today()).isoformat(), demo=store.is_demo(),
        sections=sections, reflections=_reflections(c, text, strengths, gaps))


# --- renderers ----------------------------------------------------------------------------------------


def to_html(report: Report) -> str:
    """One self-contained HTML file (images inline), autoescaped."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("hubdash", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(r=report)


def to_pdf(report: Report) -> bytes:
    """The HTML printed to PDF by WeasyPrint (A4, page numbers, the facts in every footer)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as e:  # OSError: the Pango library is missing
        raise ReportError(f"PDF export needs WeasyPrint and the Pango library ({e}). Run `make install browser` "
                          "or `apt-get install libpango-1.0-0 libpangoft2-1.0-0`, or export HTML or Word "
                          "instead.") from e
    return HTML(string=to_html(report)).write_pdf()


def to_docx(report: Report) -> bytes:
    """A Word document with real headings, pictures and tables."""
    from docx import Document
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.0)
    sec.top_margin = sec.bottom_margin = Cm(1.8)
    doc.styles["Normal"].font.size = Pt(11)
    doc.core_properties.title = report.title
    doc.core_properties.author = "hubdash"
    footer = sec.footer.paragraphs[0]
    footer.text = f"{report.title} · data as of {report.data_date} · {report.filters} · no personal data"
    footer.runs[0].font.size = Pt(8)
    width = sec.page_width - sec.left_margin - sec.right_margin

    doc.add_heading(report.title, level=0)
    if report.place:
        doc.add_paragraph(report.place)
    for fact in report.facts:
        doc.add_paragraph(fact, style="List Bullet")
    p = doc.add_paragraph()
    run = p.add_run(report.privacy)
    run.bold = True

    def add_table(t: Table) -> None:
        cap = doc.add_paragraph(t.caption)
        cap.runs[0].italic = True
        table = doc.add_table(rows=1, cols=len(t.columns))
        table.style = "Light Grid Accent 1"
        for cell, text in zip(table.rows[0].cells, t.columns, strict=True):
            cell.text = text
        for r in t.rows:
            for cell, text in zip(table.add_row().cells, r, strict=True):
                cell.text = text
        doc.add_paragraph()

    def add_figure(f: Figure) -> None:
        w, h = f.size
        height = width * h / w
        max_h = Cm(21)
        doc.add_picture(io.BytesIO(f.png), width=int(width if height <= max_h else width * max_h / height))
        cap = doc.add_paragraph(f"Figure: {f.title}. {f.alt}")
        cap.runs[0].italic = True
        cap.runs[0].font.size = Pt(9)
        cap.runs[0].font.color.rgb = RGBColor(0x3D, 0x3D, 0x3D)

    for s in report.sections:
        doc.add_page_break()
        doc.add_heading(s.heading, level=1)
        for line in s.intro:
            doc.add_paragraph(line)
        for f in s.findings:
            doc.add_heading(f.headline, level=2)
            for para in f.body:
                doc.add_paragraph(para)
            if f.figure is not None:
                add_figure(f.figure)
            for b in f.bullets:
                doc.add_paragraph(b, style="List Bullet")
            if f.table is not None:
                add_table(f.table)
        if s.note_label:
            doc.add_heading(s.note_label, level=3)
            doc.add_paragraph(s.note or "")
    doc.add_page_break()
    doc.add_heading("Reflect and act", level=1)
    doc.add_paragraph("The guide's questions for the stakeholder workshop, with what the data suggests and space "
                      "for the group's answers and actions.")
    for r in report.reflections:
        doc.add_heading(f"{r.question.number}. {r.question.text}", level=2)
        for ex in r.question.examples:
            doc.add_paragraph(ex, style="List Bullet")
        if r.suggests:
            doc.add_paragraph().add_run(f"What the data suggests: {r.suggests}").italic = True
        table = doc.add_table(rows=2, cols=2)
        table.style = "Table Grid"
        table.rows[0].cells[0].text, table.rows[0].cells[1].text = "What we think", "Actions (who, what, by when)"
        table.rows[1].cells[0].text, table.rows[1].cells[1].text = r.notes, r.actions
        table.rows[1].height = Cm(3)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


FORMATS = ("html", "pdf", "docx")


def render(report: Report, fmt: str) -> bytes:
    """The report as bytes in `fmt` ("html", "pdf" or "docx")."""
    if fmt == "html":
        return to_html(report).encode("utf-8")
    if fmt == "pdf":
        return to_pdf(report)
    if fmt == "docx":
        return to_docx(report)
    raise ReportError(f"Unknown report format '{fmt}': use one of {', '.join(FORMATS)}.")


def write_report(report: Report, path: Path) -> Path:
    """Write the report in the format its file name ends with (.html, .pdf or .docx)."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ReportError(f"{path.name}: the report can be written as .html, .pdf or .docx, not '{path.suffix}'.")
    data = render(report, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
