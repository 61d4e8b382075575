"""Column and answer mappings a person confirmed, saved as JSON to reuse on the next export.

A mapping file looks like this (every part optional)::

    {
      "hubdash_mapping": 1,
      "columns": {"Service name": "name", "Provider": "organisation",
                  "Where - GP surgery": "delivery_modes=GP surgery", "Notes": "extra", "Respondent": "ignore"},
      "values": {"format": {"Weekly group": "small_group", "Baby yoga": "_other"}}
    }

Column keys are the file's headings (matched ignoring case, spaces and punctuation); targets are
question codes, `question=answer` for one column per option, `question:other` for the text typed
for Other, `extra` (keep aside) or `ignore` (do not store). Answer targets are option codes (or
labels), or `_other` to keep the answer as Other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from hubdash.errors import IngestError
from hubdash.ingest.answers import KEEP_OTHER
from hubdash.ingest.columns import Target
from hubdash.schema import QUESTION_BY_CODE

VERSION = 1
#: A mapping file larger than this is not a mapping (refused before parsing).
MAX_MAPPING_BYTES = 1024 * 1024


@dataclass
class Mapping:
    """Confirmed column choices and answer choices.

    Attributes:
        columns: Heading -> target spelling (see `Target.encode`).
        values: Question code -> {answer as written -> option code or `KEEP_OTHER`}.
    """

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.columns and not any(self.values.values())

    def to_json(self) -> str:
        """The mapping as a JSON document (sorted, readable, UTF-8 text)."""
        doc = {"hubdash_mapping": VERSION, "columns": dict(self.columns),
               "values": {q: dict(v) for q, v in self.values.items() if v}}
        return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    def merged(self, other: Mapping) -> Mapping:
        """This mapping with `other`'s choices taking precedence."""
        values = {q: dict(v) for q, v in self.values.items()}
        for q, v in other.values.items():
            values.setdefault(q, {}).update(v)
        return Mapping({**self.columns, **other.columns}, values)

    @classmethod
    def from_json(cls, text: str | bytes, *, name: str = "the mapping file") -> Mapping:
        """Parse and check a mapping document.

        Raises:
            IngestError: not JSON, not a mapping, or naming a question or answer the survey lacks
                (the message names the file and the entry).
        """
        if isinstance(text, bytes):
            if len(text) > MAX_MAPPING_BYTES:
                raise IngestError(f"{name} is too large to be a column mapping.", title="Not a mapping file")
            try:
                text = text.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise IngestError(f"{name} is not a text JSON file.", title="Not a mapping file") from e
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise IngestError(f"{name} is not valid JSON (line {e.lineno}: {e.msg}). Save it again from the "
                              "page, or fix it in a text editor.", title="Not a mapping file") from e
        if not isinstance(doc, dict) or not ({"columns", "values", "hubdash_mapping"} & set(doc)):
            raise IngestError(f"{name} is JSON but not a hubdash mapping (it needs \"columns\" and/or \"values\").",
                              title="Not a mapping file")
        columns_in = doc.get("columns") or {}
        values_in = doc.get("values") or {}
        if not isinstance(columns_in, dict) or not isinstance(values_in, dict):
            raise IngestError(f"{name}: \"columns\" and \"values\" must be objects.", title="Not a mapping file")
        columns: dict[str, str] = {}
        for header, target in columns_in.items():
            try:
                columns[str(header)] = _check_target(str(target))
            except ValueError:
                raise IngestError(
                    f"{name}: column \"{header}\" is mapped to \"{target}\", which is not a survey question. Use a "
                    "question code (e.g. \"organisation\"), \"question=answer\", \"question:other\", \"extra\" or "
                    "\"ignore\".", title="Mapping does not match the survey") from None
        values: dict[str, dict[str, str]] = {}
        for qcode, answers in values_in.items():
            q = QUESTION_BY_CODE.get(str(qcode))
            if q is None or not q.options:
                raise IngestError(f"{name}: \"{qcode}\" in \"values\" is not a multiple-choice question code.",
                                  title="Mapping does not match the survey")
            if not isinstance(answers, dict):
                raise IngestError(f"{name}: \"values\".\"{qcode}\" must map answers to options.",
                                  title="Not a mapping file")
            out: dict[str, str] = {}
            for answer, choice in answers.items():
                choice = str(choice)
                if choice == KEEP_OTHER or choice in q.codes:
                    out[str(answer)] = choice
                elif q.code_of(choice) is not None:
                    out[str(answer)] = str(q.code_of(choice))
                else:
                    raise IngestError(
                        f"{name}: answer \"{answer}\" to {qcode} is mapped to \"{choice}\", which is not one of its "
                        f"options ({', '.join(q.codes)}) or \"{KEEP_OTHER}\".",
                        title="Mapping does not match the survey")
            values[q.code] = out
        return cls(columns, values)

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as e:
            raise IngestError(f"Cannot read the mapping file {p}: {e.strerror}.", title="Mapping file not found") from e
        return cls.from_json(data, name=p.name)


def _check_target(text: str) -> str:
    t = Target.decode(text)
    if t.answer is not None:
        q = QUESTION_BY_CODE[str(t.question)]
        if t.answer not in q.codes and q.code_of(t.answer) is not None:
            t = Target(question=t.question, answer=q.code_of(t.answer))
    return t.encode()
