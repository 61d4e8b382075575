"""Which survey question each column of a file answers, and which tool made the file.

A heading matches a question when, ignoring case, spaces, punctuation, accents, a leading
question number ("6.", "Q6)", "Question 6 -") and tails like "(tick all that apply)", it is the
question text, the question's short name or its code. A heading "<question> - <answer>" (or
"<question> [<answer>]") is one column of a question spread over one column per option, as
SmartSurvey and Excel-style exports do; "<question> - Other (please specify)" holds the text
typed for Other. Known survey-tool metadata (ID, Start time, Timestamp, IP address...) is
recognised: personal metadata is ignored, the rest kept aside. Any other column is kept aside in
`extra` (never lost) and gets a suggested question when one is likely, which a person confirms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, utils

from hubdash import schema
from hubdash.ingest.answers import option_aliases
from hubdash.ingest.read import HEADER_SEARCH_ROWS, Grid
from hubdash.schema import QUESTION_BY_CODE, Question, normalise

EXTRA = "extra"
IGNORE = "ignore"

#: How a file was recognised: code -> what the page shows.
FORMAT_LABELS = {
    "ms_forms": "Microsoft Forms (Excel export)",
    "google_forms": "Google Forms (CSV export)",
    "smartsurvey": "SmartSurvey / Excel-style (one column per option)",
    "template_xlsx": "hubdash survey template (Excel)",
    "template_csv": "hubdash survey layout (CSV)",
    "parquet": "Parquet",
    "xlsx": "Excel workbook (columns matched by heading)",
    "csv": "CSV file (columns matched by heading)",
}

_NUMBER_PREFIX = re.compile(r"^\s*(?:q(?:uestion)?\s*)?\d{1,3}\s*(?:[.):\-–]\s*|\s+)", re.IGNORECASE)
# Tails survey tools add to question headings; removed before matching (normalised form).
_TAILS = tuple(normalise(t) for t in (
    "please select all that apply", "select all that apply", "tick all that apply", "choose all that apply",
    "please tick all that apply", "please select one", "select one", "choose one", "please choose one",
    "required", "optional", "mandatory", "please specify", "multiple choice", "tick one"))
_OTHER_TAILS = frozenset(normalise(t) for t in (
    "other", "other please specify", "other (please specify)", "other specify", "please specify", "other text",
    "comment", "comments", "other details", "if other please specify", "other please state", "specify"))
_QUIZ = re.compile(r"^\s*(?:points|feedback)\s*-\s*\S", re.IGNORECASE)
_NUMBERED_COPY = re.compile(r"^(.*) \((\d+)\)$")
_SEPARATORS = (" - ", " – ", " — ", ": ", " | ", " / ", " [", " (")

# Survey-tool metadata columns (normalised heading -> class). "tool" headings are unmistakably a
# survey tool's own; "weak" and "personal" ones (the respondent's name, email, IP address) count as
# metadata only beside a "tool" heading, since a council's own sheet may use "Email" or "Status"
# for its own purposes.
METADATA: dict[str, str] = {
    **{normalise(k): "tool" for k in (
        "ID", "Start time", "Completion time", "Last modified time", "Total points", "Quiz feedback",
        "Timestamp", "Response ID", "Respondent ID", "Collector ID", "UserNo", "Unique ID", "Started", "Ended",
        "Date submitted", "Submission date", "Tracking link", "Custom value", "Response number", "Record ID",
        "Survey ID", "Date last action", "Seed", "Last page")},
    **{normalise(k): "weak" for k in (
        "Score", "Start date", "End date", "Submitted", "Status", "Duration", "Duration (seconds)", "Completed",
        "Language")},
    **{normalise(k): "personal" for k in (
        "Email", "Name", "Email address", "IP address", "First name", "Last name", "Respondent email",
        "Respondent name", "User ID", "UserID", "Username", "Telephone", "Phone", "Responder", "Referer",
        "Referrer", "User agent", "Latitude", "Longitude")},
}

# Common headings councils use for each question: suggested (a person confirms), never automatic.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("service name", "name of service", "name of the service", "service/intervention name",
             "programme name", "intervention name", "activity", "activity name", "service title",
             "name of service or intervention", "service"),
    "kind": ("service/intervention", "service or intervention?", "type of provision", "provision type"),
    "organisation": ("organization", "provider", "provider name", "organisation name", "organization name",
                     "delivered by", "delivering organisation", "lead organisation", "agency", "provider organisation"),
    "sector": ("organisation type", "provider type", "type of organisation", "sector of organisation"),
    "service_areas": ("service area", "family hub service areas", "areas of support", "start for life areas",
                      "areas", "service areas supported"),
    "format": ("delivery format", "format of delivery", "group size", "format of the service"),
    "delivery_modes": ("delivery mode", "delivery modes", "where delivered", "setting", "settings", "venue type",
                       "delivery method", "delivery methods", "how delivered", "mode of delivery"),
    "primary_outcome": ("main outcome", "main aim", "outcome", "primary aim", "aim"),
    "secondary_outcomes": ("secondary outcomes", "additional outcomes", "secondary outcome", "other aims"),
    "age_groups": ("age range", "ages", "age", "age group", "ages covered", "age bands", "age band"),
    "target_level": ("level", "level of need", "universal or targeted", "offer level", "tier", "target group"),
    "eligibility": ("eligibility criteria", "criteria", "who can access", "referral criteria", "access criteria"),
    "wards": ("ward", "areas covered", "coverage", "area covered", "geography", "geographical coverage"),
    "postcodes": ("postcode", "venue postcode", "venue postcodes", "delivery postcodes", "location postcode",
                  "site postcodes"),
    "workforce": ("who delivers", "staff", "staffing", "practitioners", "staff type", "delivered by staff"),
    "capacity": ("capacity", "annual capacity", "families per year", "places", "number of places",
                 "capacity per year"),
    "families_supported": ("families supported", "number supported", "reach", "families reached", "uptake",
                           "families supported last year", "families supported in the last 12 months"),
    "annual_cost": ("cost", "annual cost", "budget", "annual budget", "cost per year", "cost (£)",
                    "annual cost (£)"),
    "funding": ("funding source", "funding sources", "how funded", "funded by", "funder", "funders"),
    "evidence": ("evidence based", "evidence-based", "evidence level", "evaluated", "evidence base"),
    "groups": ("adapted for", "target groups", "specific groups", "designed for", "groups adapted for"),
    "languages": ("languages offered", "language", "other languages", "languages other than english"),
    "interpreter": ("interpreters", "interpreting", "interpreter available", "interpreter?"),
    "contact_name": ("contact", "lead contact", "contact person", "name of contact", "main contact"),
    "contact_email": ("contact e-mail", "email of contact", "contact email address", "e-mail"),
}
_STOP = frozenset("which what is it the a an of or and does do how to for in by be are this your you please "
                  "its any was were there".split())


@dataclass(frozen=True)
class Target:
    """What a column holds.

    Attributes:
        question: Question code, or None for `extra`/`ignore`.
        answer: For one-column-per-option: the answer the column stands for (an option code, or
            the heading's own text for an answer the survey does not list).
        other: The column holds the text typed for "Other" in `question`.
        aside: "extra" (kept aside in the service's `extra`) or "ignore" (not stored).
    """

    question: str | None = None
    answer: str | None = None
    other: bool = False
    aside: str | None = None

    def encode(self) -> str:
        """The mapping-file spelling: "name", "delivery_modes=home", "format:other", "extra", "ignore"."""
        if self.aside:
            return self.aside
        if self.other:
            return f"{self.question}:other"
        if self.answer is not None:
            return f"{self.question}={self.answer}"
        return str(self.question)

    @classmethod
    def decode(cls, text: str) -> Target:
        """Parse a mapping-file spelling; ValueError if it names no question or option."""
        t = str(text).strip()
        if t in (EXTRA, IGNORE):
            return cls(aside=t)
        if t.endswith(":other"):
            q = t[: -len(":other")]
            if q in QUESTION_BY_CODE and QUESTION_BY_CODE[q].options:
                return cls(question=q, other=True)
            raise ValueError(t)
        if "=" in t:
            q, ans = t.split("=", 1)
            if q in QUESTION_BY_CODE and QUESTION_BY_CODE[q].options and ans.strip():
                return cls(question=q, answer=ans.strip())
            raise ValueError(t)
        if t in QUESTION_BY_CODE:
            return cls(question=t)
        raise ValueError(t)

    def describe(self) -> str:
        """Plain English for the page: "Q7 Where or how is it delivered? - At a Family Hub"."""
        if self.aside == EXTRA:
            return "Keep aside (not used in the analysis)"
        if self.aside == IGNORE:
            return "Do not store"
        q = QUESTION_BY_CODE[str(self.question)]
        base = f"Q{q.number} {q.text}"
        if self.other:
            return f"{base} - text for Other"
        if self.answer is not None:
            return f"{base} - {q.label_of(self.answer)}"
        return base


KEEP = Target(aside=EXTRA)
DROP = Target(aside=IGNORE)


@dataclass
class Column:
    """One column of the file and what it was matched to.

    Attributes:
        index: Position in the file (0-based).
        header: The heading as in the file.
        letter: The spreadsheet column letter ("A", "AB").
        target: What the column holds (after any mapping).
        how: "exact", "short name", "metadata", "mapping", "suggested", "duplicate" or "unmatched".
        suggestion: A likely question for an unmatched heading, for a person to confirm.
    """

    index: int
    header: str
    letter: str
    target: Target
    how: str
    suggestion: Target | None = None
    duplicate_of: str | None = None


@dataclass
class Layout:
    """Where the headings are and what every column holds."""

    header_row: int
    columns: list[Column]
    detected_format: str
    sub_header_row: int | None = None
    data_start: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS.get(self.detected_format, self.detected_format)

    def for_question(self, code: str) -> list[Column]:
        return [c for c in self.columns if c.target.question == code]

    def unmatched(self) -> list[Column]:
        """Columns a person should look at: kept aside or suggested, not metadata."""
        return [c for c in self.columns if c.how in ("unmatched", "suggested", "duplicate")]


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


# --- the heading index -------------------------------------------------------------------------------


def _strip_prefix(text: str) -> str:
    return _NUMBER_PREFIX.sub("", text, count=1)


def _strip_tails(key: str) -> str:
    for tail in _TAILS:
        if key.endswith(tail) and len(key) > len(tail) + 3:
            return key[: -len(tail)]
    return key


def _build_index() -> tuple[dict[str, Target], dict[str, Target]]:
    exact: dict[str, Target] = {}
    short: dict[str, Target] = {}
    for q in schema.QUESTIONS:
        exact[normalise(q.text)] = Target(question=q.code)
        short.setdefault(normalise(q.short), Target(question=q.code))
        short.setdefault(normalise(q.code), Target(question=q.code))
    return exact, short


_EXACT, _SHORT = _build_index()
_CHOICE_QS = [q for q in schema.QUESTIONS if q.options]
# Longest question keys first, so "which other outcomes..." is not read as a shorter question.
_PREFIXES = sorted(((normalise(q.text), q) for q in _CHOICE_QS), key=lambda p: -len(p[0])) + sorted(
    ((normalise(q.short), q) for q in _CHOICE_QS), key=lambda p: -len(p[0])) + sorted(
    ((normalise(q.code), q) for q in _CHOICE_QS), key=lambda p: -len(p[0]))
_ALIASES = {q.code: option_aliases(q) for q in _CHOICE_QS}


def _answer_part(header: str, q: Question) -> str | None:
    """The raw answer text after the question in "<question> - <answer>", if the header has that shape."""
    h = _strip_prefix(header)
    qkeys = {normalise(q.text), normalise(q.short), normalise(q.code)}
    for sep in _SEPARATORS:
        start = 0
        while (pos := h.find(sep, start)) != -1:
            left, right = h[:pos], h[pos + len(sep):]
            if _strip_tails(normalise(left)) in qkeys:
                right = right.strip()
                if sep in (" [", " (") and right.endswith(("]", ")")):
                    right = right[:-1].strip()
                return right or None
            start = pos + 1
    return None


def match_header(header: str) -> tuple[Target | None, str]:
    """(target, how) for one heading by the automatic rules, or (None, "unmatched").

    E.g. `match_header("6. Which format most accurately reflects ...?")` -> (format question, "exact");
    `match_header("7. Where or how is it delivered? - Online")` -> (delivery_modes=online, "exact").
    """
    raw = header.strip()
    for candidate in (raw, _strip_prefix(raw)):
        key = normalise(candidate)
        for k in (key, _strip_tails(key)):
            if k in _EXACT:
                return _EXACT[k], "exact"
    for candidate in (raw, _strip_prefix(raw)):
        key = _strip_tails(normalise(candidate))
        for qkey, q in _PREFIXES:
            if key.startswith(qkey) and len(key) > len(qkey):
                rest = key[len(qkey):]
                if rest in _OTHER_TAILS:
                    return Target(question=q.code, other=True), "exact"
                code = _ALIASES[q.code].get(rest)
                if code is not None:
                    return (Target(question=q.code, other=True) if code == "other" and q.kind == "single"
                            else Target(question=q.code, answer=code)), "exact"
                answer = _answer_part(raw, q)
                if answer and normalise(answer) == rest:
                    if q.is_multi:
                        return Target(question=q.code, answer=answer), "exact"
    for candidate in (raw, _strip_prefix(raw)):
        key = normalise(candidate)
        if key in _SHORT:
            return _SHORT[key], "short name"
    return None, "unmatched"


def _content(text: str) -> str:
    words = utils.default_process(_strip_prefix(text)).split()
    return " ".join(w for w in words if w not in _STOP)


# Fuzzy comparison only with phrases of two or more words: one-word synonyms ("cost", "staff")
# are suggested when they are the whole heading, never because a heading contains them.
_SUGGEST_CHOICES: list[tuple[str, str]] = []
for _q in schema.QUESTIONS:
    for _text in (_q.text, *SYNONYMS.get(_q.code, ())):
        if len(_content(_text).split()) >= 2:
            _SUGGEST_CHOICES.append((_content(_text), _q.code))
_SYNONYM_KEYS = {normalise(s): code for code, syns in SYNONYMS.items() for s in syns}
_TEXT_PREFIXES = sorted(((normalise(q.text), q.code) for q in schema.QUESTIONS), key=lambda p: -len(p[0]))


def suggest(header: str, *, taken: set[str] | frozenset[str] = frozenset()) -> Target | None:
    """A likely question for an unmatched heading (a person confirms it), or None.

    A known synonym ("Provider", "Age range") is suggested outright; otherwise the heading's words
    are compared with each question's, and a suggestion is made only when one question is clearly
    closest. Questions already answered by another column (`taken`) are not suggested.
    """
    key = normalise(_strip_prefix(header))
    if not key:
        return None
    code = _SYNONYM_KEYS.get(key) or _SYNONYM_KEYS.get(_strip_tails(key))
    if code and code not in taken:
        return Target(question=code)
    # The whole question text followed by help text: "Which wards does it cover? List every ward...".
    for qkey, qcode in _TEXT_PREFIXES:
        if key.startswith(qkey) and qcode not in taken:
            return Target(question=qcode)
    content = _content(header)
    if len(content.split()) < 2:
        return None
    scores: dict[str, float] = {}
    for text, qcode in _SUGGEST_CHOICES:
        if qcode in taken or not text:
            continue
        # token_set alone scores 100 when one side's words are a subset of the other's; averaging
        # with token_sort penalises the words that do not match.
        s = (fuzz.token_set_ratio(content, text) + fuzz.token_sort_ratio(content, text)) / 2
        scores[qcode] = max(scores.get(qcode, 0.0), s)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, score = ranked[0]
    runner = ranked[1][1] if len(ranked) > 1 else 0.0
    if score >= 75 and score - runner >= 8:
        return Target(question=best)
    return None


# --- finding the heading row and planning columns ------------------------------------------------------


def _row_score(cells: list[str | None]) -> int:
    return sum(1 for c in cells if c and match_header(c)[0] is not None)


def locate_header(grid: Grid) -> tuple[int, int | None]:
    """(index of the heading row, index of a second heading row of option labels or None).

    The heading row is the one among the first rows whose cells match the most questions, so a
    title block above the headings is skipped. Some exports put the question in one row and each
    option in the row below (the question cell spans the option columns): that second row is
    detected when at least two of its cells are options of the question to their left.
    """
    if grid.header_given:
        return 0, None
    limit = min(len(grid.cells), HEADER_SEARCH_ROWS)
    scores = [_row_score(grid.cells[i]) for i in range(limit)]
    if scores and max(scores) > 0:
        h = scores.index(max(scores))
    else:
        h = next((i for i in range(limit) if sum(1 for c in grid.cells[i] if c) >= 2), 0)
    if h + 1 < len(grid.cells) and _sub_header_hits(grid.cells[h], grid.cells[h + 1]) >= 2:
        return h, h + 1
    return h, None


def _spanning_questions(header: list[str | None]) -> list[Question | None]:
    """The choice question each column sits under, carrying a question across blank heading cells."""
    out: list[Question | None] = []
    current: Question | None = None
    for c in header:
        if c:
            t, _ = match_header(c)
            current = QUESTION_BY_CODE[t.question] if t and t.question and t.answer is None and not t.other \
                and QUESTION_BY_CODE[t.question].is_multi and QUESTION_BY_CODE[t.question].options else None
        out.append(current)
    return out


def _sub_header_hits(header: list[str | None], below: list[str | None]) -> int:
    """How many cells of the row below are option labels under a question spanning several columns.

    Only counts when some of them sit under a blank heading cell (the question's span): a data row
    under one-column-per-question headings also holds option labels, but never under a blank heading.
    """
    hits = spanned = 0
    for j, (q, cell) in enumerate(zip(_spanning_questions(header), below, strict=False)):
        if q is not None and cell and (normalise(cell) in _ALIASES[q.code] or normalise(cell) in _OTHER_TAILS):
            hits += 1
            spanned += 1 if j >= len(header) or not header[j] else 0
    return hits if spanned else 0


def combined_headers(grid: Grid, header_row: int, sub_row: int | None) -> list[str]:
    """The headings as one row: blanks named by letter, duplicates numbered, two-row headings joined."""
    width = max((len(r) for r in grid.cells), default=0)
    header = list(grid.cells[header_row]) + [None] * (width - len(grid.cells[header_row]))
    names: list[str] = []
    if sub_row is not None:
        below = list(grid.cells[sub_row]) + [None] * (width - len(grid.cells[sub_row]))
        spans = _spanning_questions(header)
        for i, (h, b, q) in enumerate(zip(header, below, spans, strict=True)):
            if q is not None and b:
                names.append(f"{q.text} - {b}")
            else:
                names.append(h or (b if b else f"Column {column_letter(i)}"))
    else:
        names = [h or f"Column {column_letter(i)}" for i, h in enumerate(header)]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = n.strip()
        seen[k] = seen.get(k, 0) + 1
        out.append(k if seen[k] == 1 else f"{k} ({seen[k]})")
    return out


def plan_columns(
    headers: list[str],
    *,
    kind: str,
    column_map: dict[str, str] | None = None,
    accept_suggestions: bool = False,
) -> tuple[list[Column], list[str]]:
    """Decide what every column holds; returns (columns, notes about duplicates).

    Args:
        headers: The combined headings (see `combined_headers`).
        kind: "xlsx", "csv" or "parquet" (for the metadata rule on "Name").
        column_map: Confirmed choices: heading (matched with `normalise`) -> a `Target.encode()` string.
        accept_suggestions: Use suggested questions for unmatched columns (the page pre-selects
            them for a person to confirm); the command line leaves them aside unless mapped.
    """
    confirmed = {normalise(k): Target.decode(v) for k, v in (column_map or {}).items()}
    cols: list[Column] = []
    for i, h in enumerate(headers):
        key = normalise(h)
        if key in confirmed:
            cols.append(Column(i, h, column_letter(i), confirmed[key], "mapping"))
            continue
        target, how = match_header(h)
        if target is None and (m := _NUMBERED_COPY.match(h)):  # "Who is it for? (2)": a second copy
            target, how = match_header(m.group(1))
        cols.append(Column(i, h, column_letter(i), target or KEEP, how))
    # Survey-tool metadata (response ID, times, the respondent's own name and email) describes the
    # response, not the service, so it is not stored; a person can still map such a column. A
    # "Name" or "Email" heading only counts as tool metadata when the file has the tool's other
    # metadata (else it is probably the council's own column for the service or the contact).
    tool = any(c.how == "unmatched" and METADATA.get(normalise(c.header)) == "tool" for c in cols)
    for c in cols:
        key = normalise(c.header)
        if c.how == "unmatched" and _QUIZ.match(c.header):  # Microsoft Forms quiz marking, per question
            c.target, c.how = DROP, "metadata"
            continue
        if key not in METADATA or c.how not in ("unmatched", "short name"):
            continue
        if METADATA[key] == "tool" or tool:
            c.target, c.how = DROP, "metadata"
    notes: list[str] = []
    taken: set[str] = set()
    for c in cols:
        t = c.target
        if t.question is None or t.answer is not None or t.other:
            continue
        if t.question in taken:
            notes.append(f"{c.letter}: {c.header}")
            c.target, c.how, c.duplicate_of = KEEP, "duplicate", t.question
        else:
            taken.add(t.question)
    for c in cols:
        if c.how == "unmatched":
            c.suggestion = suggest(c.header, taken=taken)
            if c.suggestion is not None and accept_suggestions:
                c.target, c.how = c.suggestion, "suggested"
                taken.add(str(c.suggestion.question))
    return cols, notes


def detect_format(grid: Grid, columns: list[Column], *, sub_header: bool) -> str:
    """A code from `FORMAT_LABELS` for what made the file (shown to the user; recorded per import)."""
    keys = [normalise(c.header) for c in columns]
    if grid.kind == "parquet":
        return "parquet"
    if normalise("Start time") in keys and normalise("Completion time") in keys:
        return "ms_forms"
    if keys and keys[0] == "timestamp":
        return "google_forms"
    if sub_header or any(c.target.answer is not None or c.target.other for c in columns):
        return "smartsurvey"
    exact = [c for c in columns if c.how == "exact"]
    if exact and all(normalise(c.header) == normalise(QUESTION_BY_CODE[str(c.target.question)].text)
                     for c in exact) and not any(c.how == "metadata" for c in columns):
        return "template_xlsx" if grid.kind == "xlsx" else "template_csv"
    return grid.kind
