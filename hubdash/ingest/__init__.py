"""Survey ingestion: read a council's survey export, match it to the survey, check every answer.

The pipeline, one module per step:

* `read`: bytes -> a grid of text cells (file type by content; encoding and delimiter sniffed;
  size limits; damaged and binary files refused with a one-line reason naming the file).
* `columns`: which question each heading answers (case/space/punctuation-insensitive, with or
  without a question number; one column per option; survey-tool metadata), the heading row
  below any title block, the format that made the file, suggestions for unmatched headings.
* `answers`: one cell -> option codes, numbers, lists, "Other" text (multi-selects split against
  the known answers, longest first).
* `mapping`: column and answer choices a person confirmed, saved and reused as JSON.
* `survey`: the whole thing -> records plus a tidy problems table (`prepare_survey`).

Nothing here writes to the store: `hubdash.imports` does that, in one undoable transaction.
"""

from hubdash.ingest.answers import KEEP_OTHER, AnswerMatcher
from hubdash.ingest.columns import EXTRA, FORMAT_LABELS, IGNORE, Column, Layout, Target, match_header, suggest
from hubdash.ingest.mapping import Mapping
from hubdash.ingest.read import Grid, read_grid
from hubdash.ingest.survey import (
    PROBLEM_COLUMNS,
    Survey,
    compact_rows,
    load_survey,
    prepare_record,
    prepare_survey,
    problems_csv,
    records_frame,
    suggest_option,
)

__all__ = [
    "EXTRA", "FORMAT_LABELS", "IGNORE", "KEEP_OTHER", "PROBLEM_COLUMNS", "AnswerMatcher", "Column", "Grid",
    "Layout", "Mapping", "Survey", "Target", "compact_rows", "load_survey", "match_header", "prepare_record",
    "prepare_survey", "problems_csv", "read_grid", "records_frame", "suggest", "suggest_option",
]
