"""The provider survey (the guide's Template 1) as the one source of truth.

Every other module (ingestion, validation, store, charts, filters, the blank template and the
demo) reads question texts, answer labels and codes from here. Question texts and answer
labels are kept exactly as the survey asks them; codes are short, stable identifiers used in
the database, URLs and the command line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

QuestionKind = Literal["text", "single", "multi", "number", "wards", "postcodes", "languages"]


@dataclass(frozen=True)
class Option:
    """One allowed answer: a stable code and the label shown to people."""

    code: str
    label: str


@dataclass(frozen=True)
class Question:
    """One survey question.

    Attributes:
        number: The question number as printed in the survey (1-25).
        code: Stable short code, also the column name in the `services` table for
            single-valued questions. E.g. `target_level`.
        text: The question text exactly as asked.
        kind: How the answer is stored: a single option, several options (link table),
            free text, a number, ward names, postcodes or languages.
        options: Allowed answers for `single` and `multi` questions.
        required: A missing answer is an error rather than a warning.
        personal: Personal data: never shown in charts, presenter views or exports.
    """

    number: int
    code: str
    text: str
    kind: QuestionKind
    options: tuple[Option, ...] = ()
    required: bool = False
    personal: bool = False
    short: str = ""

    @property
    def is_multi(self) -> bool:
        return self.kind in ("multi", "wards", "postcodes", "languages")

    def label_of(self, code: str) -> str:
        for o in self.options:
            if o.code == code:
                return o.label
        return code

    def code_of(self, label: str) -> str | None:
        key = normalise(label)
        for o in self.options:
            if normalise(o.label) == key or o.code == label:
                return o.code
        return None

    @property
    def labels(self) -> list[str]:
        return [o.label for o in self.options]

    @property
    def codes(self) -> list[str]:
        return [o.code for o in self.options]


def _opts(*pairs: tuple[str, str]) -> tuple[Option, ...]:
    return tuple(Option(c, label) for c, label in pairs)


KINDS = _opts(("service", "Service"), ("intervention", "Intervention"))

SECTORS = _opts(
    ("la", "Local authority"),
    ("nhs", "NHS or health"),
    ("vcs", "Voluntary and community sector"),
    ("private", "Private sector"),
    ("other", "Other"),
)

SERVICE_AREAS_ALL = _opts(
    ("infant_feeding", "Infant feeding"),
    ("parenting", "Parenting support"),
    ("hle", "Home learning environment and early language"),
    ("perinatal_mh", "Perinatal mental health and parent-infant relationships"),
    ("other", "Other"),
)
#: The four Start for Life service areas every view filters by.
SERVICE_AREAS = SERVICE_AREAS_ALL[:4]

FORMATS = _opts(
    ("self_help", "Information or self-help"),
    ("drop_in", "Drop-in sessions"),
    ("one_to_one", "Individual (one-to-one) format"),
    ("small_group", "In small groups (up to six people)"),
    ("medium_group", "In medium groups (up to 30 people)"),
    ("large_group", "In large groups (more than 30 people)"),
    ("other", "Other"),
)

DELIVERY_MODES = _opts(
    ("family_hub", "At a Family Hub"),
    ("community_venue", "At another community venue"),
    ("home", "In the family's home"),
    ("online", "Online"),
    ("telephone", "By telephone"),
)

OUTCOMES = _opts(
    ("parenting", "Improve parenting"),
    ("parent_child", "Improve parent-child relationship"),
    ("hle", "Improve home learning environment"),
    ("infant_feeding", "Improve infant feeding experience"),
    ("birthing", "Improve birthing experience"),
    ("perinatal_mh", "Improve perinatal mental health"),
    ("child_dev", "Improve child development and language"),
    ("parental_conflict", "Reduce parental conflict"),
    ("other", "Other"),
)

AGE_GROUPS = _opts(
    ("prebirth", "Pre-birth"),
    ("m0_12", "0-12 months"),
    ("m12_18", "12-18 months"),
    ("m18_24", "18-24 months"),
    ("y2_3", "2-3 years"),
    ("y3_5", "3-5 years"),
    ("ks1", "Key Stage 1 (5-7 years)"),
    ("ks2", "Key Stage 2 (7-11 years)"),
    ("ks3", "Key Stage 3 (11-14 years)"),
    ("ks4", "Key Stage 4 (14-16 years)"),
    ("y16_18", "16-18 years"),
    ("y18_25", "18-25 years"),
)
#: Compact column headings for the gap map, as in the guide's Figure 1.
AGE_SHORT = {
    "prebirth": "Pre birth",
    "m0_12": "0-12 m",
    "m12_18": "12-18 m",
    "m18_24": "18-24 m",
    "y2_3": "2-3 y",
    "y3_5": "3-5 y",
    "ks1": "KS1",
    "ks2": "KS2",
    "ks3": "KS3",
    "ks4": "KS4",
    "y16_18": "16-18 y",
    "y18_25": "18-25 y",
}

TARGET_LEVELS = _opts(
    ("universal", "Universal - available to all families"),
    ("targeted_selective", "Targeted selective - families at increased risk"),
    ("targeted_indicated", "Targeted indicated - families with an identified need"),
)
#: Short level names for headings and chart axes.
LEVEL_SHORT = {
    "universal": "Universal",
    "targeted_selective": "Targeted selective",
    "targeted_indicated": "Targeted indicated",
}

WORKFORCE = _opts(
    ("health_visitors", "Health visitors"),
    ("midwives", "Midwives"),
    ("family_support", "Family support workers"),
    ("mental_health", "Mental health practitioners"),
    ("infant_feeding", "Infant feeding specialists"),
    ("early_years", "Early years practitioners"),
    ("salt", "Speech and language therapists"),
    ("volunteers", "Volunteers or peer supporters"),
    ("other", "Other"),
)

FUNDING = _opts(
    ("fh_sfl_grant", "Family Hubs and Start for Life grant"),
    ("public_health", "Public health grant"),
    ("la_core", "Local authority core budget"),
    ("nhs_icb", "NHS or ICB"),
    ("charitable", "Charitable or grant funding"),
    ("other", "Other"),
)

EVIDENCE = _opts(
    ("guidebook", "Yes - rated in the Foundations Guidebook"),
    ("other_evidence", "Yes - other evidence"),
    ("local", "Locally developed, not yet evaluated"),
    ("dont_know", "Don't know"),
)

GROUPS = _opts(
    ("low_income", "Low-income families"),
    ("minority_ethnic", "Minority ethnic families"),
    ("young_parents", "Young parents (under 25)"),
    ("lgbtq", "LGBTQ+ families"),
    ("parent_mh", "Parents with mental health difficulties"),
    ("send", "Families of children with SEND"),
    ("fathers", "Fathers and male carers"),
    ("eal", "Families with English as an additional language"),
    ("none", "None - not specifically adapted"),
)

INTERPRETER = _opts(("yes", "Yes"), ("no", "No"), ("on_request", "On request"))

#: The answer to question 13 meaning every ward of the local authority.
WHOLE_LA = "Whole local authority"

QUESTIONS: tuple[Question, ...] = (
    Question(1, "name", "Name of the service or intervention", "text", required=True, short="Name"),
    Question(2, "kind", "Is this a service or an intervention?", "single", KINDS, required=True,
             short="Service or intervention"),
    Question(3, "organisation", "Which organisation delivers it?", "text", short="Organisation"),
    Question(4, "sector", "Which sector is the organisation in?", "single", SECTORS, short="Sector"),
    Question(5, "service_areas", "Which Family Hub service areas does it support?", "multi",
             SERVICE_AREAS_ALL, short="Service areas"),
    Question(6, "format",
             "Which format most accurately reflects the way the service or intervention is delivered?",
             "single", FORMATS, short="Format"),
    Question(7, "delivery_modes", "Where or how is it delivered?", "multi", DELIVERY_MODES,
             short="Where or how delivered"),
    Question(8, "primary_outcome", "What is the primary outcome it aims to improve?", "single",
             OUTCOMES, required=True, short="Primary outcome"),
    Question(9, "secondary_outcomes", "Which other outcomes does it aim to improve?", "multi",
             OUTCOMES, short="Other outcomes"),
    Question(10, "age_groups", "Which age groups is it for?", "multi", AGE_GROUPS, required=True,
             short="Age groups"),
    Question(11, "target_level", "Who is it for?", "single", TARGET_LEVELS, required=True,
             short="Target level"),
    Question(12, "eligibility", "What are the eligibility criteria, if any?", "text",
             short="Eligibility"),
    Question(13, "wards", "Which wards does it cover?", "wards", short="Wards covered"),
    Question(14, "postcodes", "What are the postcodes of the places where it is delivered?",
             "postcodes", short="Postcodes"),
    Question(15, "workforce", "Who delivers it?", "multi", WORKFORCE, short="Workforce"),
    Question(16, "capacity", "How many families can it support each year?", "number",
             short="Capacity (families a year)"),
    Question(17, "families_supported", "How many families did it support in the last 12 months?",
             "number", short="Families supported (12 months)"),
    Question(18, "annual_cost", "What is its annual cost in pounds?", "number", short="Annual cost (£)"),
    Question(19, "funding", "How is it funded?", "multi", FUNDING, short="Funding"),
    Question(20, "evidence", "Is it an evidence-based programme?", "single", EVIDENCE,
             short="Evidence base"),
    Question(21, "groups", "Which groups is it specifically designed or adapted for?", "multi",
             GROUPS, short="Adapted for"),
    Question(22, "languages", "Which languages other than English is it offered in?", "languages",
             short="Languages"),
    Question(23, "interpreter", "Is an interpreter available?", "single", INTERPRETER,
             short="Interpreter"),
    Question(24, "contact_name", "Contact name", "text", personal=True, short="Contact name"),
    Question(25, "contact_email", "Contact email", "text", personal=True, short="Contact email"),
)

QUESTION_BY_CODE: dict[str, Question] = {q.code: q for q in QUESTIONS}
QUESTION_BY_NUMBER: dict[int, Question] = {q.number: q for q in QUESTIONS}

#: Questions stored as columns of the `services` table.
SCALAR_QUESTIONS = tuple(q for q in QUESTIONS if q.kind in ("text", "single", "number"))
#: Multi-select questions stored in the `service_choices` link table (codes).
CHOICE_QUESTIONS = tuple(q for q in QUESTIONS if q.kind == "multi")
PERSONAL_FIELDS = tuple(q.code for q in QUESTIONS if q.personal)


def question(code: str) -> Question:
    """The question with this code; raises KeyError for an unknown code."""
    return QUESTION_BY_CODE[code]


def label(question_code: str, option_code: str) -> str:
    """The survey label of an option. E.g. `label("target_level", "universal")`."""
    return QUESTION_BY_CODE[question_code].label_of(option_code)


def area_label(code: str) -> str:
    return label("service_areas", code)


# --- population-needs indicators -------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    unit: str
    higher_is_more_need: bool = True
    description: str = ""


INDICATORS: tuple[Indicator, ...] = (
    Indicator("pop_0_4", "Children aged 0-4", "people"),
    Indicator("pop_0_19", "Children and young people aged 0-19", "people"),
    Indicator("births", "Births a year", "births"),
    Indicator("imd_score", "Deprivation score (IMD)", "score"),
    Indicator("imd_decile", "Deprivation decile (1 = most deprived)", "decile", higher_is_more_need=False),
    Indicator("pct_minority_ethnic", "Minority ethnic residents", "%"),
    Indicator("breastfeeding_6_8wk", "Breastfeeding at 6-8 weeks", "%", higher_is_more_need=False),
    Indicator("smoking_at_delivery", "Smoking at time of delivery", "%"),
    Indicator("children_low_income", "Children in low-income families", "%"),
    Indicator("young_parent_births", "Births to mothers under 25", "%"),
)
INDICATOR_BY_CODE = {i.code: i for i in INDICATORS}


# --- text normalisation for matching headers and answers ------------------------------------

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise(text: object) -> str:
    """Case-, accent-, whitespace- and punctuation-insensitive key.

    E.g. `normalise("  Which sector is the Organisation in? ")` == `"whichsectoristheorganisationin"`.
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("", s.lower())


# --- filters shared by every view ------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The global view filter: service area, target level and kind (all optional).

    `None` means "all". Values are option codes.
    """

    area: str | None = None
    level: str | None = None
    kind: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    def describe(self) -> str:
        parts = [area_label(self.area) if self.area else "All service areas"]
        parts.append(LEVEL_SHORT[self.level] if self.level else "all target levels")
        parts.append({"service": "services only", "intervention": "interventions only"}.get(
            self.kind or "", "services and interventions"))
        return ", ".join(parts)

    def validated(self) -> Filters:
        """The same filter with unknown codes dropped (URL values are untrusted)."""
        return Filters(
            area=self.area if self.area in {o.code for o in SERVICE_AREAS} else None,
            level=self.level if self.level in LEVEL_SHORT else None,
            kind=self.kind if self.kind in ("service", "intervention") else None,
        )
