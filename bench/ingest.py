"""The ingestion step the benchmark times: the survey-ingestion feature's own import function.

`import_file(store, path) -> rows accepted`: read, check and commit one export file with
`hubdash.imports.import_file` (append mode, automatic backup included, as in the app). None
while `hubdash.imports` does not exist (the benchmark then reports ingestion as null rather than
timing a stand-in).
"""

from __future__ import annotations

from pathlib import Path

try:
    from hubdash import imports as _imports
except ImportError:  # the ingestion feature is not installed in this tree
    _imports = None


def _import_file(store, path: Path) -> int:  # noqa: ANN001
    survey, _preview, result = _imports.import_file(store, path, mode="append")
    if result is None:
        raise RuntimeError(f"{path} was not imported")
    return int(survey.rows_accepted)


import_file = _import_file if _imports is not None else None
