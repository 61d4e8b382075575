"""Turning one cell's text into survey answers: option codes, numbers, lists, "Other" text.

Multi-select cells are split against the *known* answers, never blindly: some answer labels
contain commas or hyphens ("Locally developed, not yet evaluated", "Universal - available to all
families"), and Google Forms joins answers with ", ". So a cell is first cut at hard separators
(`;`, new lines, `|`) and each piece is then matched left to right, trying the longest run of
comma-separated fragments that is a known answer first. Fragments that match nothing are kept
together as one unknown answer (the text someone typed for "Other" may itself contain commas).

Everything here is pure and cached per distinct cell text: survey answers repeat a lot, so a
5,000-row file has only a few hundred distinct cells per question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hubdash import schema
from hubdash.schema import Question, normalise

#: The value-mapping token meaning "keep this answer as Other (or as text)".
KEEP_OTHER = "_other"

_HARD_SEPARATORS = re.compile(r"\s*(?:;|\n|\r|\|)\s*")
_OTHER_PREFIX = re.compile(
    r"^\s*other\s*(?:\((?:please\s+)?(?:specify|state|describe)[^)]*\))?\s*(?:please\s+specify)?\s*[:\-–—=]\s*(.+)$",
    re.IGNORECASE | re.DOTALL)
#: Answers meaning "no answer" in a choice or number question.
BLANK_WORDS = frozenset({"", "na", "n/a", "none", "nil", "-", "--", "not applicable", "not known", "unknown",
                         "nk", "n/k", "dont know", "tbc", "tbd", "?"})
_BLANK_KEYS = frozenset(normalise(w) for w in BLANK_WORDS) | {""}
#: Cell values in a one-column-per-option layout that mean "chosen" / "not chosen".
TICKED = frozenset({"1", "yes", "y", "true", "x", "ticked", "selected", "checked", "chosen"})
UNTICKED = frozenset({"0", "no", "n", "false", "notselected", "unticked", "unchecked"})
_EXCEL_ERRORS = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!"})

# Common ways people write an answer that are not the exact survey label. Keys are matched with
# `normalise`, so case, spaces and punctuation do not matter. Only unambiguous synonyms belong here.
_SYNONYMS: dict[str, dict[str, str]] = {
    "kind": {"a service": "service", "an intervention": "intervention", "programme": "intervention"},
    "sector": {"local authority": "la", "council": "la", "la": "la", "nhs": "nhs", "health": "nhs",
               "vcs": "vcs", "vcse": "vcs", "voluntary": "vcs", "voluntary sector": "vcs", "charity": "vcs",
               "community": "vcs", "voluntary and community": "vcs", "private": "private", "business": "private"},
    "interpreter": {"y": "yes", "n": "no", "available on request": "on_request", "if requested": "on_request"},
    "evidence": {"dont know": "dont_know", "do not know": "dont_know", "not sure": "dont_know",
                 "unknown": "dont_know"},
    "age_groups": {"antenatal": "prebirth", "pre birth": "prebirth", "pregnancy": "prebirth"},
}

_NUMBER = re.compile(r"^\d+(?:\.\d+)?$|^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_APPROX = re.compile(r"^(?:approx(?:imately)?\.?|about|around|circa|c\.|ca\.|~|up to|roughly)\s*", re.IGNORECASE)
_RANGE = re.compile(r"^\s*£?\s*([\d,.]+)\s*k?\s*(?:-|–|—|to)\s*£?\s*([\d,.]+)\s*k?\s*$", re.IGNORECASE)
_UNITS = re.compile(r"(?:\s*(?:per\s+(?:year|annum)|a\s+year|each\s+year|p\.?a\.?|/\s*(?:yr|year)|annually|"
                    r"families|family|per\s+week|pounds|gbp))+\s*$", re.IGNORECASE)
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
_WHOLE_LA = frozenset(normalise(w) for w in (
    schema.WHOLE_LA, "all wards", "whole borough", "borough wide", "borough-wide", "la wide", "all", "whole area",
    "whole county", "county wide", "all areas", "whole la", "whole of the borough", "whole city", "citywide"))
_NO_LANGUAGE = frozenset(normalise(w) for w in ("none", "no", "english", "english only", "n/a", "na", "nil", "-"))


@dataclass(frozen=True)
class Parsed:
    """The answers found in one cell.

    Attributes:
        codes: Option codes (single-choice: zero or one; multi: any number), or list items.
        other_text: Text given for "Other" (or kept because it matched no option).
        unknown: Answers that matched no option (before any value mapping), in order.
        notes: (problem code, detail) pairs for the problems table.
        number: The value of a number question.
    """

    codes: tuple[str, ...] = ()
    other_text: str | None = None
    unknown: tuple[str, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()
    number: float | None = None


def is_blank(text: str | None) -> bool:
    """No answer: empty, or a word like "N/A", "none" or "-"."""
    return text is None or normalise(text) in _BLANK_KEYS and not any(ch.isdigit() for ch in text)


def is_excel_error(text: str | None) -> bool:
    return text is not None and text.strip().upper() in _EXCEL_ERRORS


def option_aliases(q: Question) -> dict[str, str]:
    """Every accepted spelling of each option of `q`, normalised, mapped to its code.

    The full label and the code always; the label's short form before " - " or " (" when no other
    option shares it (so "Universal" means universal, but "Yes" is not guessed for evidence);
    the schema's short names for levels and age groups; and a few plain-English synonyms.
    """
    keys: dict[str, str] = {}
    for o in q.options:
        keys[normalise(o.label)] = o.code
        keys[normalise(o.code)] = o.code
    shorts: dict[str, list[str]] = {}
    for o in q.options:
        for sep in (" - ", " ("):
            if sep in o.label:
                head = normalise(o.label.split(sep, 1)[0])
                if len(head) >= 3:
                    shorts.setdefault(head, []).append(o.code)
    for head, codes in shorts.items():
        if len(set(codes)) == 1 and head not in keys:
            keys[head] = codes[0]
    if q.code == "target_level":
        keys.update({normalise(v): k for k, v in schema.LEVEL_SHORT.items()})
    if q.code == "age_groups":
        keys.update({normalise(v): k for k, v in schema.AGE_SHORT.items()})
    for text, code in _SYNONYMS.get(q.code, {}).items():
        keys.setdefault(normalise(text), code)
    return keys


class AnswerMatcher:
    """Matches cell text to the options of one question (plus any confirmed value mapping).

    Args:
        question: The survey question.
        value_map: Confirmed answers for this question: answer text -> option code, or
            `KEEP_OTHER` to keep it as Other. Keys are matched with `schema.normalise`.
    """

    def __init__(self, question: Question, value_map: dict[str, str] | None = None) -> None:
        self.q = question
        self.keys = option_aliases(question)
        self.mapped: dict[str, str] = {}
        for text, code in (value_map or {}).items():
            self.mapped[normalise(text)] = code
        self.has_other = "other" in question.codes
        self._max_fragments = 1 + max((k.count(",") for k in self._raw_labels()), default=0)
        self._cache: dict[str, Parsed] = {}
        self._tick_cache: dict[tuple[str, str], Parsed] = {}

    def _raw_labels(self) -> list[str]:
        return [o.label for o in self.q.options]

    def lookup(self, text: str) -> str | None:
        """The option code for one answer text, a value-mapping decision, or None."""
        key = normalise(text)
        if key in self.mapped:
            return self.mapped[key]
        return self.keys.get(key)

    # --- single choice --------------------------------------------------------------------------

    def single(self, text: str | None) -> Parsed:
        """One answer expected. Several answers keep the first and flag it; unknown text is kept."""
        if text is None:
            return Parsed()
        hit = self._cache.get(text)
        if hit is None:
            hit = self._cache[text] = self._single(text)
        return hit

    def _single(self, text: str) -> Parsed:
        # Look the text up before treating it as blank: "None" and "Don't know" are real answers
        # to some questions (21 and 20).
        code = self.lookup(text)
        if code is not None:
            return self._decided(code, text)
        if is_blank(text):
            return Parsed()
        m = _OTHER_PREFIX.match(text)
        if m and self.has_other:
            return Parsed(("other",), m.group(1).strip())
        parsed = self.multi(text)
        answers = len([c for c in parsed.codes if c != "other"]) + (1 if "other" in parsed.codes or parsed.other_text
                                                                    else 0)
        if answers > 1:
            notes = parsed.notes + (("several_answers", text),)
            first = parsed.codes[:1]
            rest = [schema.label(self.q.code, c) for c in parsed.codes[1:]] + list(parsed.unknown)
            if not first:
                return self._unknown(text)
            other = "; ".join(x for x in (parsed.other_text, *rest) if x)
            return Parsed(first, other or None, parsed.unknown, notes)
        return self._unknown(text)

    def _decided(self, code: str, text: str) -> Parsed:
        if code == KEEP_OTHER:
            if self.has_other:
                return Parsed(("other",), text, (), (("kept_other", text),))
            return Parsed((), text, (), (("kept_text", text),))
        notes = (("mapped_answer", text),) if normalise(text) in self.mapped else ()
        if code == "other" and normalise(text) not in ("other", normalise(schema.label(self.q.code, "other"))):
            return Parsed(("other",), text, (), notes)
        return Parsed((code,), None, (), notes)

    def _unknown(self, text: str) -> Parsed:
        if self.has_other:
            return Parsed(("other",), text, (text,), (("unknown_answer", text),))
        return Parsed((), text, (text,), (("unknown_answer", text),))

    # --- several choices ----------------------------------------------------------------------

    def multi(self, text: str | None) -> Parsed:
        """Any number of answers, split against the known ones (see the module docstring)."""
        if text is None:
            return Parsed()
        key = "\x00" + text
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._multi(text)
        return hit

    def _multi(self, text: str) -> Parsed:
        if self.lookup(text) is None and is_blank(text):
            return Parsed()
        codes: list[str] = []
        others: list[str] = []
        unknown: list[str] = []
        notes: list[tuple[str, str]] = []
        for piece in _HARD_SEPARATORS.split(text):
            piece = piece.strip().strip(",").strip()
            if not piece or (self.lookup(piece) is None and is_blank(piece)):
                continue
            for answer, code in self._split_piece(piece):
                if code is None:
                    m = _OTHER_PREFIX.match(answer)
                    if m and self.has_other:
                        codes.append("other")
                        others.append(m.group(1).strip())
                        continue
                    unknown.append(answer)
                    notes.append(("unknown_answer", answer))
                    if self.has_other:
                        codes.append("other")
                    others.append(answer)
                elif code == KEEP_OTHER:
                    if self.has_other:
                        codes.append("other")
                    others.append(answer)
                    notes.append(("kept_other" if self.has_other else "kept_text", answer))
                else:
                    codes.append(code)
                    if self.mapped and normalise(answer) in self.mapped:
                        notes.append(("mapped_answer", answer))
                    if code == "other" and normalise(answer) not in ("other", normalise(
                            schema.label(self.q.code, "other"))):
                        others.append(answer)
        return Parsed(tuple(dict.fromkeys(codes)), "; ".join(dict.fromkeys(others)) or None,
                      tuple(unknown), tuple(notes))

    def _split_piece(self, piece: str) -> list[tuple[str, str | None]]:
        """[(answer text, code or None)] for one piece, matching the longest known answers first."""
        whole = self.lookup(piece)
        if whole is not None:
            return [(piece, whole)]
        if "," not in piece:
            return [(piece, None)]
        frags = [f.strip() for f in piece.split(",")]
        longest = max(self._max_fragments, 1 + max((k.count(",") for k in self.mapped), default=0))
        # Mapped answers were normalised (commas dropped), so also try every span up to the whole piece.
        longest = max(longest, len(frags)) if self.mapped else longest
        out: list[tuple[str, str | None]] = []
        pending: list[str] = []
        i = 0
        while i < len(frags):
            for j in range(min(len(frags), i + longest), i, -1):
                candidate = ", ".join(frags[i:j])
                code = self.lookup(candidate)
                if code is not None:
                    if pending:
                        out.append((", ".join(pending), None))
                        pending = []
                    out.append((candidate, code))
                    i = j
                    break
            else:
                if frags[i]:
                    pending.append(frags[i])
                i += 1
        if pending:
            out.append((", ".join(pending), None))
        return out

    # --- one column per option (SmartSurvey, Excel-style) -------------------------------------------

    def ticked(self, text: str | None, option_code: str) -> Parsed:
        """A cell in the column for one option: chosen if it holds the label, 1, Yes, x...; for
        "Other" a typed text is the Other answer."""
        if text is None:
            return Parsed()
        key = (text, option_code)
        hit = self._tick_cache.get(key)
        if hit is None:
            hit = self._tick_cache[key] = self._ticked(text, option_code)
        return hit

    def _ticked(self, text: str, option_code: str) -> Parsed:
        if is_blank(text) or normalise(text) in UNTICKED:
            return Parsed()
        key = normalise(text)
        if key in TICKED or key == normalise(schema.label(self.q.code, option_code)) or self.lookup(text) == option_code:
            return Parsed((option_code,))
        if option_code == "other":
            m = _OTHER_PREFIX.match(text)
            return Parsed(("other",), m.group(1).strip() if m else text)
        return Parsed((option_code,), None, (), (("unexpected_tick", text),))


# --- numbers, lists, postcodes, emails -----------------------------------------------------------------


def parse_number(text: str | None) -> Parsed:
    """A count or an amount in pounds. E.g. "£12,500" -> 12500, "approx 40" -> 40, "12k" -> 12000.

    A range ("200-300"), a negative figure or words are not guessed at: the value stays empty and
    the text is kept (other_text) with a note, so nothing is lost.
    """
    if text is None:
        return Parsed()
    s = text.strip()
    if is_blank(s):
        return Parsed()
    notes: list[tuple[str, str]] = []
    core = _UNITS.sub("", s.replace("£", "").replace("GBP", "").strip())
    approx = _APPROX.match(core)
    if approx:
        core = core[approx.end():]
        notes.append(("approximate", s))
    if core.rstrip().endswith("+"):
        notes.append(("approximate", s))
    core = re.sub(r"(?<=\d)\s+(?=\d{3}\b)", "", core.strip().rstrip("+").strip())
    if _RANGE.match(core) and not core.startswith("-"):
        return Parsed(other_text=s, notes=(("number_range", s),))
    mult = 1.0
    if core[-1:] in ("k", "K") and _NUMBER.match(core[:-1].strip()):
        core, mult = core[:-1].strip(), 1000.0
    negative = core.startswith("-")
    body = core.lstrip("-").strip()
    if not _NUMBER.match(body):
        return Parsed(other_text=s, notes=(("not_a_number", s),))
    value = float(body.replace(",", "")) * mult
    if negative and value != 0:
        return Parsed(other_text=s, notes=(("negative_number", s),))
    return Parsed(number=value, notes=tuple(dict.fromkeys(notes)))


def split_list(text: str | None, *, slash: bool = False) -> list[str]:
    """Free-text list items split on `;`, `,`, new lines and `|` (and `/` if asked), de-duplicated."""
    if text is None:
        return []
    pattern = r"[;,\n\r|/]" if slash else r"[;,\n\r|]"
    items = [p.strip().strip(".").strip() for p in re.split(pattern, text)]
    return list(dict.fromkeys(p for p in items if p and not is_blank(p)))


def parse_wards(text: str | None) -> Parsed:
    """Ward names or codes; "Whole local authority" (or "All wards", "Borough-wide"...) is kept as is."""
    items = split_list(text)
    out = []
    for it in items:
        out.append(schema.WHOLE_LA if normalise(it) in _WHOLE_LA else it)
    return Parsed(tuple(dict.fromkeys(out)))


def parse_postcodes(text: str | None) -> Parsed:
    """Postcodes upper-cased and spaced ("km12ab" -> "KM1 2AB"); anything not shaped like a full
    postcode is kept as written, with a note."""
    out, notes = [], []
    for it in split_list(text):
        compact = re.sub(r"\s+", "", it.upper())
        m = _POSTCODE.match(compact)
        if m:
            out.append(f"{m.group(1)} {m.group(2)}")
        else:
            out.append(it.upper())
            notes.append(("bad_postcode", it))
    return Parsed(tuple(dict.fromkeys(out)), notes=tuple(notes))


def parse_languages(text: str | None) -> Parsed:
    """Languages other than English; "None" or "English only" mean none. Lower-case names get a capital."""
    out, notes = [], []
    for it in split_list(text, slash=True):
        if normalise(it) in _NO_LANGUAGE:
            continue
        out.append(it[0].upper() + it[1:] if it.islower() else it)
    return Parsed(tuple(dict.fromkeys(out)), notes=tuple(notes))


def check_email(text: str | None) -> tuple[tuple[str, str], ...]:
    if text is None or _EMAIL.match(text.strip()):
        return ()
    return (("bad_email", text),)
