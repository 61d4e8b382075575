"""Hostile input: whatever bytes arrive, the outcome is a clean import or a clear HubdashError.

Property-based (hypothesis): random bytes, random CSV shapes and delimiters, huge cells, odd
encodings, permuted headers, random workbooks. After any error the store is exactly as before
(same data version, same rows). A permuted header never changes what is imported.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from hubdash import schema, synth
from hubdash.errors import HubdashError
from hubdash.imports import commit_import
from hubdash.ingest import prepare_survey
from hubdash.services import insert_services, service_frame
from hubdash.store import Store
from tests.conftest import record

pytestmark = pytest.mark.filterwarnings("ignore")

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HEADERS = [q.text for q in schema.QUESTIONS]
NAMES = st.sampled_from(["returns.csv", "returns.xlsx", "returns.txt", "returns.parquet", "returns.json", "x"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "utf-16-le"])
#: Text as survey tools and spreadsheets mangle it: control characters, quotes, delimiters, RTL marks.
CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", "=HYPERLINK(\"http://x\")", "-1", "1e308", "NaN", "#REF!", "Whole local authority", "0-12 months; 3-5 years",
     "\u202eevil", "a\x00b", "\"", "\r\n", "Universal - available to all families", "Service", "nan"])


def _state(s: Store) -> tuple:
    return (s.data_version(), s.counts()["services"], s.counts()["imports"],
            s.rows("SELECT count(*) FROM service_choices")[0][0],
            s.rows("SELECT coalesce(sum(hash(name)), 0) FROM services")[0][0])


def _fresh_store() -> Store:
    s = Store()
    with s.write() as cur:
        insert_services(cur, [record("Existing group", wards=["Hollins"]), record("Another one")])
    return s


_SHARED: list[Store] = []


def _shared_store() -> Store:
    """One store for a whole property test (opening a store costs ~0.3 s; examples are many).

    Each example compares the store before and after its own attempt, so sharing is safe.
    """
    if not _SHARED:
        _SHARED.append(_fresh_store())
    return _SHARED[0]


def _attempt(data: bytes, name: str, store: Store | None = None) -> tuple[str, Store]:
    """Import `data` as `name`: 'imported' or 'refused' (HubdashError only), and the store used."""
    s = store or _shared_store()
    before = _state(s)
    try:
        survey = prepare_survey(data, name)
        commit_import(s, survey, mode="append", backup=False)
    except HubdashError as e:
        assert e.msg and e.title, "a clear message"
        assert "Traceback" not in e.msg
        assert _state(s) == before, "the store is unchanged after an error"
        return "refused", s
    after = _state(s)
    assert after[0] == before[0] + 1, "one committed write"
    assert after[2] == before[2] + 1, "recorded as one import"
    return "imported", s


@SETTINGS
@given(data=st.binary(max_size=3000), name=NAMES)
@example(data=b"PK\x03\x04" + b"\x00" * 200, name="returns.xlsx")     # a zip header and nothing else
@example(data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x01" * 100, name="returns.xls")
@example(data=b"PAR1garbagePAR1", name="returns.parquet")
@example(data=b"\xff\xfe\x00\x00", name="returns.csv")
@example(data=b"", name="returns.csv")
def test_random_bytes_are_imported_or_refused_cleanly(data: bytes, name: str) -> None:
    _attempt(data, name)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str]:
    """A CSV of random shape: some real headings (any order), some junk, ragged rows, any encoding."""
    real = draw(st.lists(st.sampled_from(HEADERS), max_size=8, unique=True))
    junk = draw(st.lists(CELL, max_size=4))
    header = draw(st.permutations(real + junk))
    rows = draw(st.lists(st.lists(CELL, max_size=len(header) + 2), max_size=8))
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    for r in [header, *rows]:
        w.writerow([c.replace("\x00", "") for c in r])
    enc = draw(ENCODINGS)
    return buf.getvalue().encode(enc, errors="replace"), draw(st.sampled_from(["returns.csv", "returns.txt"]))


@SETTINGS
@given(f=csv_files())
def test_random_csv_shapes_are_imported_or_refused_cleanly(f: tuple[bytes, str]) -> None:
    _attempt(*f)


def _export_bytes(records: list[dict], *, order: list[int] | None = None, encoding: str = "utf-8") -> bytes:
    headers, rows = synth.export_rows(records)
    order = order or list(range(len(headers)))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([headers[i] for i in order])
    for r in rows:
        w.writerow([r[i] for i in order])
    return buf.getvalue().encode(encoding)


RECORDS = synth.synthetic_services(6, synth.generated_wards(12), seed=5)


def _imported(s: Store) -> list[tuple]:
    f = service_frame(s)
    f = f[f["import_id"].notna()]
    cols = ["name", "kind", "organisation", "target_level", "primary_outcome", "age_groups", "service_areas",
            "groups", "capacity"]
    return sorted(tuple(r) for r in f[cols].itertuples(index=False))


def test_canonical_export_imports_every_row() -> None:
    outcome, s = _attempt(_export_bytes(RECORDS), "returns.csv", _fresh_store())
    assert outcome == "imported"
    assert len(_imported(s)) == len(RECORDS)


#: A first row with several answers per multi-select, so it cannot be taken for a sub-header row.
LEAD = dict(RECORDS[1], service_areas=["parenting", "hle"], delivery_modes=["home", "online"])


def _parsed(data: bytes) -> list[tuple]:
    survey = prepare_survey(data, "returns.csv")
    assert not survey.fatal
    return sorted(tuple(sorted((k, repr(v)) for k, v in r.items())) for r in survey.records)


_BASE: list[list[tuple]] = []


@settings(max_examples=25, deadline=None, derandomize=True)
@given(order=st.permutations(range(len(HEADERS))), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_permuted_headers_and_encodings_give_the_same_records(order: list[int], encoding: str) -> None:
    recs = [LEAD, *RECORDS[2:]]
    if not _BASE:
        _BASE.append(_parsed(_export_bytes(recs)))
    assert _parsed(_export_bytes(recs, order=list(order), encoding=encoding)) == _BASE[0]


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.sampled_from([6_000, 300_000]), column=st.sampled_from(["name", "eligibility", "wards",
                                                                                 "service_areas", "capacity"]),
       ch=st.sampled_from(["x", "é", "🙂", ";", ",", "\n", "\""]))
def test_huge_cells_are_imported_or_refused_cleanly(size: int, column: str, ch: str) -> None:
    rec = dict(RECORDS[0])
    rec[column] = ch * size if column != "service_areas" else [ch * size]
    data = _export_bytes([LEAD, rec])
    assume(len(data) < 25 * 1024 * 1024)
    _attempt(data, "returns.csv", _fresh_store())


def test_a_second_round_updating_services_with_and_without_other_answers() -> None:
    """Found by these property tests (since fixed): a re-import matching services with and without an
    'Other' answer crashed with a TypeError while recording before-images."""
    s = _fresh_store()
    first = _export_bytes([LEAD, dict(RECORDS[0], service_areas=["Not an area"])])
    assert _attempt(first, "round1.csv", s)[0] == "imported"
    second = _export_bytes([LEAD, dict(RECORDS[0], eligibility="changed")])
    assert _attempt(second, "round2.csv", s)[0] == "imported"


@settings(max_examples=20, deadline=None, derandomize=True)
@given(cells=st.lists(st.lists(CELL | st.integers() | st.floats(allow_nan=True), max_size=6), max_size=6),
       with_headers=st.booleans())
def test_random_workbooks_are_imported_or_refused_cleanly(cells: list[list], with_headers: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    wb = Workbook()
    ws = wb.active
    if with_headers:
        ws.append(HEADERS[:6])
    try:
        for r in cells:
            ws.append(r)
    except IllegalCharacterError:
        assume(False)
    buf = io.BytesIO()
    wb.save(buf)
    _attempt(buf.getvalue(), "returns.xlsx")


def test_over_the_limit_is_refused_before_parsing(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from hubdash.ingest import load_survey, read

    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.truncate(26 * 1024 * 1024)  # sparse: 26 MB of nothing, never read

    def no_parse(*a: object, **k: object) -> None:
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(read, "_read_csv", no_parse)
    with pytest.raises(HubdashError, match="over the 25 MB limit"):
        load_survey(path)


def test_upload_limits_are_configured_before_parsing() -> None:
    """Streamlit refuses bigger uploads and other types before our code sees a byte."""
    import ast
    import tomllib

    from hubdash.safety import MAX_UPLOAD_BYTES
    from tests.conftest import ROOT

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES
    uploaders = []
    for page in (ROOT / "pages").glob("*.py"):
        for node in ast.walk(ast.parse(page.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "file_uploader":
                kw = {k.arg for k in node.keywords}
                uploaders.append((page.name, "type" in kw))
    ui_src = (ROOT / "hubdash" / "ui.py").read_text()
    for node in ast.walk(ast.parse(ui_src)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "file_uploader":
            uploaders.append(("ui.py", "type" in {k.arg for k in node.keywords}))
    assert uploaders, "the app has an upload control"
    assert all(has_type for _, has_type in uploaders), f"every uploader limits file types: {uploaders}"


def test_a_failure_inside_the_write_leaves_the_store_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash half-way through the import transaction (after the imports row and history rows)."""
    import hubdash.imports as imports

    s = _fresh_store()
    before = _state(s)
    survey = prepare_survey(_export_bytes(RECORDS), "returns.csv")
    calls = {"n": 0}
    real = imports.insert_services

    def failing(*a: object, **k: object) -> list[int]:
        calls["n"] += 1
        real(*a, **k)
        raise OSError("disk full")

    monkeypatch.setattr(imports, "insert_services", failing)
    with pytest.raises(OSError):
        commit_import(s, survey, mode="replace", backup=False)
    assert calls["n"] >= 1
    assert _state(s) == before
    assert s.rows("SELECT count(*) FROM changes")[0][0] == 0


def test_sql_looking_text_is_stored_as_text() -> None:
    rec = dict(RECORDS[0], name="Robert'); DROP TABLE services;--", organisation="<script>alert(1)</script>")
    outcome, s = _attempt(_export_bytes([LEAD, rec]), "returns.csv", _fresh_store())
    assert outcome == "imported"
    names = set(service_frame(s)["name"])
    assert "Robert'); DROP TABLE services;--" in names
    assert "<script>alert(1)</script>" in set(service_frame(s)["organisation"])


