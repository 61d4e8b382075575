"""Reading survey exports: formats, encodings, headings, answers, problems, mappings, broken files."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from hubdash import schema
from hubdash.errors import IngestError
from hubdash.ingest import KEEP_OTHER, AnswerMatcher, Mapping, Target, match_header, prepare_survey, suggest
from hubdash.ingest.answers import parse_languages, parse_number, parse_postcodes, parse_wards
from hubdash.ingest.read import decode_text, sniff_delimiter
from hubdash.ingest.survey import load_survey, prepare_record, problems_csv, suggest_option
from hubdash.safety import MAX_UPLOAD_BYTES
from hubdash.schema import Option, Question
from tests.unit.survey_exports import (
    SERVICES,
    canonical_rows,
    smartsurvey_rows,
    write_all,
    write_google_forms,
)


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("exports"))


def _csv(text: str, name: str = "survey.csv", encoding: str = "utf-8"):  # noqa: ANN202
    return prepare_survey(text.encode(encoding), name)


def _comparable(records: list[dict]) -> list[dict]:
    """Records with list answers as sets (order is the tool's, not meaningful) and no file name."""
    out = []
    for r in records:
        out.append({k: (sorted(v) if isinstance(v, list) else v) for k, v in r.items() if k != "source_file"})
    return out


# --- formats --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ms_forms", "google_forms", "smartsurvey", "template_xlsx", "template_csv",
                                 "parquet"])
def test_each_export_is_recognised_and_reads_every_service(exports, fmt: str) -> None:  # noqa: ANN001
    s = prepare_survey(exports[fmt].read_bytes(), exports[fmt].name)
    assert s.detected_format == fmt
    assert (s.rows_read, s.rows_accepted, s.rows_rejected) == (6, 6, 0)
    assert s.fatal is None
    assert [r["source_row"] for r in s.records] == [2, 3, 4, 5, 6, 7]


def test_every_format_gives_the_same_records(exports) -> None:  # noqa: ANN001
    base = _comparable(prepare_survey(exports["template_csv"].read_bytes(), "x.csv").records)
    expected = _comparable([{**r, "extra": {}, "source_row": i} for i, r in enumerate(SERVICES, start=2)])
    assert base == expected
    for fmt, path in exports.items():
        assert _comparable(prepare_survey(path.read_bytes(), path.name).records) == base, fmt


def test_smartsurvey_cp1252_keeps_pound_signs_and_accents(exports) -> None:  # noqa: ANN001
    data = exports["smartsurvey"].read_bytes()
    assert "£".encode("cp1252") in data and "£".encode() not in data  # really Windows-1252
    s = prepare_survey(data, "smartsurvey.csv")
    assert s.encoding == "cp1252"
    first = s.records[0]
    assert first["name"] == "Café Bébé drop-in"
    assert first["contact_name"] == "Zoë Brontë"
    assert first["eligibility"] == "Free; £2 donation welcome"
    assert first["annual_cost"] == 12500.0  # written "£12,500"


def test_smartsurvey_option_columns_holding_1_or_the_label(exports) -> None:  # noqa: ANN001
    header, rows = smartsurvey_rows()
    assert "15. Who delivers it? - Midwives" in header  # one column per option
    s = prepare_survey(exports["smartsurvey"].read_bytes(), "s.csv")
    assert sorted(s.records[2]["workforce"]) == ["mental_health", "midwives"]  # cells hold "1"
    assert s.records[4]["other_answers"]["service_areas"] == "Speech and language"  # "Other (please specify)"


def test_ms_forms_metadata_is_not_stored_and_name_email_are_not_questions(exports) -> None:  # noqa: ANN001
    s = prepare_survey(exports["ms_forms"].read_bytes(), "ms.xlsx")
    meta = [c.header for c in s.layout.columns if c.how == "metadata"]
    assert meta == ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]
    assert all(r["extra"] == {} for r in s.records)
    assert s.records[0]["name"] == "Café Bébé drop-in"  # not the respondent's "Name" column


# --- encodings and delimiters -------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("utf-16", "utf-16")])
def test_text_encodings(encoding: str, expected: str) -> None:
    text, enc = decode_text("Name,Cost\nCafé Zoë,£5\n".encode(encoding), "x.csv")
    assert enc == expected
    assert text.splitlines()[1] == "Café Zoë,£5"


def test_a_utf8_file_with_one_pasted_windows_line_keeps_both() -> None:
    data = "Name\nCafé one\nCafé two\nNaïve three\n".encode() + "Zoë's £5 group\n".encode("cp1252")
    text, enc = decode_text(data, "x.csv")
    assert "mixed" in enc
    assert text.splitlines() == ["Name", "Café one", "Café two", "Naïve three", "Zoë's £5 group"]


@pytest.mark.parametrize(("text", "delim"), [
    ("a;b;c\n1;2;3\n", ";"), ("a,b,c\n1,2,3\n", ","), ("a\tb\tc\n1\t2\t3\n", "\t"),
    ("a;b,c;d\n1;2,5;3\n", ";"),  # commas inside values, semicolons between them
])
def test_delimiter_sniffing(text: str, delim: str) -> None:
    assert sniff_delimiter(text) == delim


def test_semicolon_csv_with_excel_sep_line_and_title_rows() -> None:
    text = ("sep=;\nFamily hub mapping export;;\n;;\n"
            "Name of the service or intervention;Who is it for?;Which age groups is it for?\n"
            "Stay and play;Universal;0-12 months, 12-18 months\n")
    s = _csv(text)
    assert s.delimiter == ";"
    assert s.layout.header_row == 4  # spreadsheet row of the headings (row 1 is the sep= line)
    assert s.records[0]["age_groups"] == ["m0_12", "m12_18"]
    assert s.records[0]["source_row"] == 5


# --- headings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "expected"), [
    ("Which format most accurately reflects the way the service or intervention is delivered?", "format"),
    ("6. Which format most accurately reflects the way the service or intervention is delivered?", "format"),
    ("Q6) WHICH FORMAT most accurately reflects the way the service or intervention is delivered", "format"),
    ("  which   format most accurately reflects the way, the service or intervention is delivered ", "format"),
    ("Which age groups is it for? (Please select all that apply)", "age_groups"),
    ("Which age groups is it for? *", "age_groups"),
    ("10. Which age groups is it for? - 0-12 months", "age_groups=m0_12"),
    ("Which age groups is it for? [Key Stage 1 (5-7 years)]", "age_groups=ks1"),
    ("6. Which format most accurately reflects the way the service or intervention is delivered? - Other "
     "(please specify)", "format:other"),
    ("7. Where or how is it delivered? - At a GP surgery", "delivery_modes=At a GP surgery"),
    ("Target level", "target_level"),
    ("service_areas", "service_areas"),
    ("Annual cost (£)", "annual_cost"),
])
def test_heading_matches(header: str, expected: str) -> None:
    target, how = match_header(header)
    assert target is not None and target.encode() == expected, (header, target)
    assert how in ("exact", "short name")


@pytest.mark.parametrize("header", [
    "Which format is used?",            # a different question
    "Format notes",                     # the short name plus more words
    "Age groups comment box",
    "6",                                # a bare number is not a question
    "Which wards does it cover? - Harbourside",  # wards are free text, not options
])
def test_heading_near_misses(header: str) -> None:
    assert match_header(header)[0] is None


@pytest.mark.parametrize(("header", "expected"), [
    ("Service name", "name"), ("Provider", "organisation"), ("Age range", "age_groups"),
    ("How many families could the service support per year?", "capacity"),
    ("Which format best reflects how the service is delivered?", "format"),
])
def test_suggested_matches_for_a_councils_own_headings(header: str, expected: str) -> None:
    t = suggest(header)
    assert t is not None and t.question == expected


@pytest.mark.parametrize("header", ["Notes", "Staff initials", "Cost centre", "Timestamp of last edit"])
def test_no_suggestion_for_unrelated_headings(header: str) -> None:
    assert suggest(header) is None


def test_two_row_headings_question_above_options() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name of the service or intervention", "Which age groups is it for?", None, None, "Who is it for?"])
    ws.append([None, "Pre-birth", "0-12 months", "12-18 months", None])
    ws.append(["Bumps", "Pre-birth", None, None, "Universal"])
    ws.append(["Toddlers", None, "0-12 months", "12-18 months", "Universal"])
    buf = io.BytesIO()
    wb.save(buf)
    s = prepare_survey(buf.getvalue(), "two-rows.xlsx")
    assert s.layout.sub_header_row == 2
    assert [r["age_groups"] for r in s.records] == [["prebirth"], ["m0_12", "m12_18"]]
    assert [r["source_row"] for r in s.records] == [3, 4]


def test_unknown_and_duplicate_columns_are_kept_aside() -> None:
    text = ("Name of the service or intervention,Our internal code,Who is it for?,Who is it for?\n"
            "Stay and play,SP-01,Universal,Targeted selective\n")
    s = _csv(text)
    assert s.records[0]["extra"] == {"Our internal code": "SP-01", "Who is it for? (2)": "Targeted selective"}
    assert s.records[0]["target_level"] == "universal"
    codes = set(s.problems["code"])
    assert {"column_kept", "column_duplicate"} <= codes


# --- answers -------------------------------------------------------------------------------------------------

COMMA_Q = Question(99, "test", "Test?", "multi", (
    Option("local", "Locally developed, not yet evaluated"), Option("dk", "Don't know"),
    Option("guidebook", "Yes - rated in the Foundations Guidebook"), Option("a", "Infant feeding"),
    Option("other", "Other")))


def test_google_forms_commas_split_against_known_labels_longest_first() -> None:
    m = AnswerMatcher(COMMA_Q)
    p = m.multi("Locally developed, not yet evaluated, Don't know, Weekend sessions, evenings")
    assert p.codes == ("local", "dk", "other")
    assert p.other_text == "Weekend sessions, evenings"  # the typed text kept whole, commas and all
    assert p.unknown == ("Weekend sessions, evenings",)


def test_a_fragment_of_a_comma_label_is_not_that_label() -> None:
    p = AnswerMatcher(COMMA_Q).multi("Locally developed, Infant feeding")
    assert p.codes == ("other", "a")
    assert p.unknown == ("Locally developed",)


@pytest.mark.parametrize(("cell", "codes"), [
    ("Pre-birth;0-12 months;12-18 months;", ("prebirth", "m0_12", "m12_18")),  # MS Forms, trailing ;
    ("Pre-birth, 0-12 months, Key Stage 1 (5-7 years)", ("prebirth", "m0_12", "ks1")),  # Google Forms
    ("pre birth; 0-12 M; KS1", ("prebirth", "m0_12", "ks1")),  # short names, any case
    ("0-12 months\n18-24 months", ("m0_12", "m18_24")),  # new lines
])
def test_multi_select_separators(cell: str, codes: tuple) -> None:
    assert AnswerMatcher(schema.question("age_groups")).multi(cell).codes == codes


@pytest.mark.parametrize(("question", "cell", "code"), [
    ("target_level", "Universal - available to all families", "universal"),
    ("target_level", "universal", "universal"),  # the short form before " - "
    ("target_level", "Targeted selective", "targeted_selective"),
    ("evidence", "Locally developed, not yet evaluated", "local"),  # comma inside a single answer
    ("evidence", "Don't know", "dont_know"),
    ("groups", "None - not specifically adapted", "none"),
    ("sector", "VCSE", "vcs"),
])
def test_single_answers(question: str, cell: str, code: str) -> None:
    assert AnswerMatcher(schema.question(question)).single(cell).codes == (code,)


def test_ambiguous_short_forms_are_not_guessed() -> None:
    # Two evidence answers start "Yes - ...": "Yes" alone is not either of them.
    p = AnswerMatcher(schema.question("evidence")).single("Yes")
    assert p.codes == () and p.unknown == ("Yes",)


def test_none_is_an_answer_to_q21_but_blank_elsewhere() -> None:
    assert AnswerMatcher(schema.question("groups")).multi("None").codes == ("none",)
    assert AnswerMatcher(schema.question("delivery_modes")).multi("None").codes == ()
    assert AnswerMatcher(schema.question("groups")).multi("N/A").codes == ()


def test_other_text_in_every_spelling() -> None:
    m = AnswerMatcher(schema.question("format"))
    for cell in ("Other: Walk and talk", "Other (please specify): Walk and talk", "other - Walk and talk",
                 "Walk and talk"):
        p = m.single(cell)
        assert (p.codes, p.other_text) == (("other",), "Walk and talk"), cell


def test_unknown_answer_without_other_option_is_kept_as_text() -> None:
    p = AnswerMatcher(schema.question("delivery_modes")).multi("Online; At the GP surgery")
    assert p.codes == ("online",)
    assert p.other_text == "At the GP surgery" and p.unknown == ("At the GP surgery",)


def test_several_answers_to_a_one_answer_question_keep_the_first() -> None:
    p = AnswerMatcher(schema.question("target_level")).single("Universal; Targeted selective")
    assert p.codes == ("universal",)
    assert "several_answers" in dict(p.notes)


def test_value_mapping_maps_or_keeps_as_other() -> None:
    m = AnswerMatcher(schema.question("format"), {"Weekly group": "small_group", "Walk and talk": KEEP_OTHER})
    assert m.single("weekly GROUP").codes == ("small_group",)
    assert dict(m.single("weekly group").notes) == {"mapped_answer": "weekly group"}
    kept = m.single("Walk and talk")
    assert (kept.codes, kept.other_text, kept.unknown) == (("other",), "Walk and talk", ())


@pytest.mark.parametrize(("cell", "value", "note"), [
    ("£12,500", 12500.0, None), ("12500.50", 12500.5, None), ("approx 40", 40.0, "approximate"),
    ("40+", 40.0, "approximate"), ("12k", 12000.0, None), ("1 200", 1200.0, None),
    ("200 families per year", 200.0, None), ("0", 0.0, None),
    ("200-300", None, "number_range"), ("-5", None, "negative_number"), ("lots", None, "not_a_number"),
    ("1,5", None, "not_a_number"), ("N/A", None, None), ("", None, None),
])
def test_numbers(cell: str, value: float | None, note: str | None) -> None:
    p = parse_number(cell)
    assert p.number == value
    assert (note in dict(p.notes)) if note else not p.notes
    if note and value is None:
        assert p.other_text == cell  # the text is kept, not lost


def test_wards_postcodes_languages() -> None:
    assert parse_wards("Harbourside, Old Town; Old Town").codes == ("Harbourside", "Old Town")
    for whole in ("Whole local authority", "All wards", "borough-wide", "ALL"):
        assert parse_wards(whole).codes == (schema.WHOLE_LA,)
    p = parse_postcodes("km12ab; KM4 6CD, KM99")
    assert p.codes == ("KM1 2AB", "KM4 6CD", "KM99") and dict(p.notes) == {"bad_postcode": "KM99"}
    assert parse_languages("urdu/Punjabi; English; Polish").codes == ("Urdu", "Punjabi", "Polish")
    assert parse_languages("English only").codes == ()


@given(hst.lists(hst.sampled_from(schema.question("age_groups").labels), min_size=1, max_size=12, unique=True),
       hst.sampled_from([", ", ";", "; ", "\n", " | "]))
@settings(max_examples=60, deadline=None)
def test_splitting_known_labels_never_loses_or_invents_one(labels: list[str], sep: str) -> None:
    q = schema.question("age_groups")
    p = AnswerMatcher(q).multi(sep.join(labels))
    assert sorted(p.codes) == sorted(q.code_of(lab) for lab in labels)
    assert p.unknown == ()


def test_option_suggestions() -> None:
    assert suggest_option(schema.question("format"), "Drop in") == "drop_in"
    assert suggest_option(schema.question("target_level"), "Universal services") == "universal"
    assert suggest_option(schema.question("format"), "Group") is None  # small or medium: not guessed
    assert suggest_option(schema.question("age_groups"), "0-1 years") is None
    assert suggest_option(schema.question("funding"), "Parent fees") is None


# --- problems ------------------------------------------------------------------------------------------------


def test_problems_name_file_row_column_value_and_what_to_do() -> None:
    text = ("Service survey 2025\n"  # a title row: headings are in row 2
            "Name of the service or intervention,Who is it for?,Which age groups is it for?,Contact email,"
            "What is its annual cost in pounds?\n"
            "Stay and play,Universal,0-12 months,a@example.org,£500\n"
            ",Universal,0-12 months,,\n"                               # row 4: no name -> rejected
            "\n"                                                        # row 5: blank, skipped
            "Baby yoga,Everyone,3-5 years,not-an-email,200-300\n")      # row 6
    s = _csv(text, "returns.csv")
    assert (s.rows_read, s.rows_accepted, s.rows_rejected) == (3, 2, 1)
    p = s.problems.set_index("code")
    assert p.loc["no_name", "row"] == 4 and p.loc["no_name", "severity"] == "error"
    assert p.loc["no_name", "cell"] == "A4"
    u = p.loc["unknown_answer_no_other"]
    assert (u["row"], u["cell"], u["value"], u["column"]) == (6, "B6", "Everyone", "Who is it for?")
    assert "answer-mapping" in u["what_to_do"]
    assert p.loc["bad_email", "value"] == "(hidden: personal data)"  # personal data never in the table
    assert p.loc["number_range", "cell"] == "E6"
    assert set(s.problems["file"]) == {"returns.csv"}
    assert list(s.problems["severity"])[0] == "error"  # errors first
    assert s.records[1]["other_answers"] == {"target_level": "Everyone", "annual_cost": "200-300"}


def test_formula_like_text_is_stored_as_text_and_neutralised_in_the_problems_export() -> None:
    s = _csv('Name of the service or intervention,"What are the eligibility criteria, if any?"\n'
             '=HYPERLINK("http://x"),+44 families\n@Home,- weekly\n')
    assert [r["name"] for r in s.records] == ['=HYPERLINK("http://x")', "@Home"]
    assert s.records[0]["eligibility"] == "+44 families"
    out = problems_csv(s.problems).decode("utf-8-sig")
    assert "'=HYPERLINK" in out and ",=HYPERLINK" not in out
    assert "'@Home" in out


def test_unknown_answers_table_counts_rows(exports) -> None:  # noqa: ANN001
    s = prepare_survey(exports["google_forms"].read_bytes(), "g.csv")
    t = s.unknown.set_index("answer")
    assert t.loc["Outdoor sessions", "question"] == "format"
    assert t.loc["Outdoor sessions", "rows"] == "6"
    assert len(s.undecided()) == 4


# --- mappings --------------------------------------------------------------------------------------------


OWN = ("Service name,Provider,Age range,Level,Main outcome,Notes\n"
       "Bumps and babies,Harbour Church,Pre-birth; 0-12 months,Universal,Improve parenting,Tuesdays\n"
       "Dad's den,Kestlemouth Council,2-3 years; 3-5 years,Targeted selective,Dads' confidence,\n")


def test_own_headings_need_a_confirmed_mapping() -> None:
    s = _csv(OWN, "own.csv")
    assert s.fatal is not None and s.fatal.startswith("own.csv does not look like a survey export")
    assert "map its columns" in s.fatal
    assert s.layout.columns[0].suggestion == Target(question="name")
    with pytest.raises(IngestError, match="own.csv"):
        s2 = prepare_survey(OWN.encode(), "own.csv")
        if s2.fatal:
            raise IngestError(s2.fatal)


def test_mapping_applies_columns_and_answers_and_round_trips_as_json(tmp_path: Path) -> None:
    m = Mapping({"service name": "name", "PROVIDER": "organisation", "Age range": "age_groups",
                 "Level": "target_level", "Main outcome": "primary_outcome", "Notes": "ignore"},
                {"primary_outcome": {"Dads' confidence": "parenting"}})
    path = tmp_path / "m.json"
    m.save(path)
    again = Mapping.load(path)
    assert again == m
    s = prepare_survey(OWN.encode(), "own.csv", mapping=again)
    assert s.fatal is None
    assert [r["primary_outcome"] for r in s.records] == ["parenting", "parenting"]
    assert [r["organisation"] for r in s.records] == ["Harbour Church", "Kestlemouth Council"]
    assert all(r["extra"] == {} for r in s.records)  # "Notes" ignored, as mapped
    assert s.unknown.set_index("answer").loc["Dads' confidence", "decision"] == "parenting"


def test_suggestions_can_be_accepted_as_the_page_does() -> None:
    s = prepare_survey(OWN.encode(), "own.csv", accept_suggestions=True)
    assert s.fatal is None
    assert s.mapping.columns["Service name"] == "name"
    assert "column_suggested" in set(s.problems["code"])


@pytest.mark.parametrize(("doc", "match"), [
    ("not json", "not valid JSON"), ('{"a": 1}', "not a hubdash mapping"),
    ('{"columns": {"X": "nonsense"}}', 'column "X"'),
    ('{"values": {"format": {"Weekly": "weekly"}}}', 'answer "Weekly"'),
    ('{"values": {"name": {"x": "y"}}}', "not a multiple-choice"),
])
def test_bad_mapping_files_are_refused_naming_the_file(doc: str, match: str) -> None:
    with pytest.raises(IngestError, match=match) as e:
        Mapping.from_json(doc, name="my-mapping.json")
    assert "my-mapping.json" in e.value.msg


def test_mapping_values_may_use_labels() -> None:
    m = Mapping.from_json('{"values": {"format": {"Weekly": "In small groups (up to six people)"}}}')
    assert m.values == {"format": {"Weekly": "small_group"}}


# --- broken input --------------------------------------------------------------------------------------------


def _truncated_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["Name of the service or intervention"])
    wb.active.append(["A"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()[: len(buf.getvalue()) // 2]


BROKEN = {
    "empty": (b"", "empty.csv", "is empty"),
    "whitespace": (b"  \r\n \n", "blank.csv", "is empty"),
    "binary": (bytes(range(256)) * 20, "junk.csv", "not a text (CSV) file"),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.xls", "old-style Excel"),
    "zip": (None, "archive.xlsx", "not an Excel workbook"),
    "unrelated": ("Budget line,Cost centre,Amount\nStaff,CC01,100\n".encode(), "budget.csv",
                  "does not look like a survey export"),
    "headings only": ("Name of the service or intervention,Who is it for?\n".encode(), "heads.csv",
                      "no rows of answers"),
    "broken parquet": (b"PAR1" + b"\0" * 50, "bad.parquet", "cannot be read as Parquet"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_input_is_one_line_naming_the_file(case: str, tmp_path: Path) -> None:
    data, name, match = BROKEN[case]
    if case == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("readme.txt", "hello")
        data = buf.getvalue()
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as e:
        load_survey(path)
    assert name in e.value.msg and match in e.value.msg
    assert "\n" not in e.value.one_line()


def test_truncated_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "cut.xlsx"
    path.write_bytes(_truncated_xlsx())
    with pytest.raises(IngestError, match="cut.xlsx is damaged or incomplete"):
        load_survey(path)


def test_over_the_size_limit_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.truncate(MAX_UPLOAD_BYTES + 1)  # sparse: no need to write 25 MB
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    with pytest.raises(IngestError, match=r"huge.csv is 25.0 MB, over the 25 MB limit"):
        load_survey(path)
    with pytest.raises(IngestError, match="over the 25 MB limit"):
        prepare_survey(b"x" * (MAX_UPLOAD_BYTES + 1), "huge.csv")


def test_a_workbook_named_csv_is_read_as_a_workbook(exports, tmp_path: Path) -> None:  # noqa: ANN001
    s = prepare_survey(exports["ms_forms"].read_bytes(), "export.csv")
    assert s.kind == "xlsx" and s.rows_accepted == 6


def test_formula_cells_in_a_workbook_keep_their_text() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name of the service or intervention", "How many families can it support each year?"])
    ws.append(["Group", "=10*12"])  # a formula with no stored result
    buf = io.BytesIO()
    wb.save(buf)
    s = prepare_survey(buf.getvalue(), "f.xlsx")
    assert s.records[0]["capacity"] is None
    assert s.records[0]["other_answers"] == {"capacity": "=10*12"}


# --- one record typed into the app ----------------------------------------------------------------------------


def test_a_form_record_gets_the_same_checks() -> None:
    rec, probs = prepare_record({"name": "Walk and talk", "kind": "service", "format": "other",
                                 "age_groups": ["m0_12"], "postcodes": ["km12ab", "KM99"], "capacity": 12.0},
                                other={"format": "Outdoors"})
    assert rec is not None
    assert rec["format"] == "other" and rec["other_answers"] == {"format": "Outdoors"}
    assert rec["postcodes"] == ["KM1 2AB", "KM99"]
    assert "source_row" not in rec and "source_file" not in rec
    codes = set(probs["code"])
    assert {"bad_postcode", "missing_required"} <= codes
    none, probs = prepare_record({"name": " ", "kind": "service"})
    assert none is None and "no_name" in set(probs["code"])


def test_canonical_rows_use_exact_question_texts() -> None:
    header, _ = canonical_rows()
    assert header == [q.text for q in schema.QUESTIONS]


def test_bom_and_crlf_google_export(tmp_path: Path) -> None:
    path = write_google_forms(tmp_path / "g.csv")
    data = codecs.BOM_UTF8 + path.read_bytes().replace(b"\n", b"\r\n")
    s = prepare_survey(data, "g.csv")
    assert s.rows_accepted == 6 and s.records[0]["name"] == "Café Bébé drop-in"


# --- messy exports seen in the wild ----------------------------------------------------------------------


def test_surveymonkey_style_two_row_csv_with_other_column() -> None:
    text = ("Respondent ID,Collector ID,Name of the service or intervention,Where or how is it delivered?,,,"
            "Who is it for?\n"
            ",,Response,At a Family Hub,Online,Other (please specify),Response\n"
            "101,7,Stay and play,At a Family Hub,,,Universal\n"
            "102,7,Baby yoga,,Online,In the park,Targeted selective\n")
    s = _csv(text, "monkey.csv")
    assert s.layout.sub_header_row == 2 and s.detected_format == "smartsurvey"
    assert [r["delivery_modes"] for r in s.records] == [["family_hub"], ["online"]]
    assert s.records[1]["other_answers"] == {"delivery_modes": "In the park"}
    assert [r["source_row"] for r in s.records] == [3, 4]
    assert {c.header for c in s.layout.columns if c.how == "metadata"} == {"Respondent ID", "Collector ID"}


def test_a_totals_row_is_not_a_service() -> None:
    s = _csv("Name of the service or intervention,How many families can it support each year?\n"
             "Group A,10\nGroup B,20\nTotal,30\n")
    assert [r["name"] for r in s.records] == ["Group A", "Group B"]
    assert s.problems.set_index("code").loc["totals_row", "row"] == 4


def test_other_sheets_with_answers_are_reported_not_silently_ignored() -> None:
    wb = openpyxl.Workbook()
    head = ["Name of the service or intervention", "Who is it for?", "Which age groups is it for?",
            "Which organisation delivers it?"]
    for i, title in enumerate(["North", "South"]):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title
        ws.append(head)
        ws.append([f"{title} group", "Universal", "0-12 months", "Org"])
    buf = io.BytesIO()
    wb.save(buf)
    s = prepare_survey(buf.getvalue(), "two-localities.xlsx")
    assert s.sheet == "North" and s.rows_accepted == 1
    note = s.problems.set_index("code").loc["other_sheets"]
    assert note["severity"] == "warning" and "'South'" in note["what_to_do"]


def test_a_hubdash_csv_export_reads_back_as_stored() -> None:
    # `safety.csv_safe` prefixes formula-like text with an apostrophe on export; reading removes it.
    s = _csv("Name,Target level\n'@Home learning club,Universal\n'=Dads,Targeted selective\n")
    assert [r["name"] for r in s.records] == ["@Home learning club", "=Dads"]


def test_microsoft_forms_quiz_columns_are_metadata() -> None:
    s = _csv("ID,Start time,Completion time,Name of the service or intervention,Points - Name of the service or "
             "intervention,Feedback - Name of the service or intervention\n1,x,y,Group,0,\n")
    assert [c.how for c in s.layout.columns] == ["metadata"] * 3 + ["exact"] + ["metadata"] * 2
    assert s.records[0]["extra"] == {}


def test_question_text_followed_by_help_text_is_suggested() -> None:
    t = suggest("13. Which wards does it cover? Please list every ward, separated by semicolons")
    assert t == Target(question="wards")


@pytest.mark.parametrize("fmt", ["ms_forms", "template_xlsx"])
def test_the_fast_workbook_reader_agrees_with_openpyxl(exports, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from hubdash.ingest import read

    data = exports[fmt].read_bytes()
    fast = prepare_survey(data, "x.xlsx")

    def unusual(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise ValueError("an unusual workbook")

    monkeypatch.setattr(read, "_fast_xlsx_sheets", unusual)
    slow = prepare_survey(data, "x.xlsx")
    assert fast.records == slow.records
    assert fast.problems.equals(slow.problems)


def test_excel_line_break_escapes_are_decoded() -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["Name of the service or intervention", "What are the eligibility criteria, if any?"])
    wb.active.append(["Group", "Parents_x000D_\nof under-fives"])
    buf = io.BytesIO()
    wb.save(buf)
    s = prepare_survey(buf.getvalue(), "x.xlsx")
    assert s.records[0]["eligibility"] == "Parents\r\nof under-fives"
