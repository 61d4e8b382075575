"""The report (HTML, PDF, Word) and the deck (PowerPoint): structure, images, tables, no personal data."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hubdash import report, slides
from hubdash.schema import Filters
from hubdash.store import Store
from tests.conftest import ROOT

EMAIL = "@planted.example.org"
NAME = "Plantina Zedwicke"
TITLE = "Kestlemouth <script>alert('x')</script> & partners"
SHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def built(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """One infant-feeding report from the demo with contacts planted on every service, in every format."""
    db = tmp_path_factory.mktemp("report") / "demo.duckdb"
    shutil.copy(demo_db_master, db)
    with Store(db) as s:
        with s.write() as cur:
            cur.execute("UPDATE services SET contact_email = 'c' || service_id || ?, contact_name = ? || service_id",
                        [EMAIL, NAME])
        report.save_text(s, {"title": TITLE, "reflect_6_actions": "Keep the cafes open (Public health, June)"})
        rep = report.build_report(s, filters=Filters(area="infant_feeding"))
    files = {fmt: report.render(rep, fmt) for fmt in report.FORMATS}
    files["pptx"] = slides.to_pptx(rep)
    return rep, files


# --- editable text ----------------------------------------------------------------------------------


def test_text_defaults_save_and_refusals(make_store) -> None:  # noqa: ANN001
    from tests.conftest import record

    store = make_store([record("A")])
    text = report.load_text(store)
    assert text["title"] == "Mapping support for families in our area"
    assert text["gaps_note"] == "" and text["reflect_10_actions"] == ""
    assert report.save_text(store, {"scope": "Only the north", "gaps_note": "Fathers"}) == 2
    assert report.load_text(store)["scope"] == "Only the north"
    report.save_text(store, {"scope": ""})
    assert report.load_text(store)["scope"] == "", "an emptied field stays empty"
    with pytest.raises(report.ReportError, match="Unknown report field"):
        report.save_text(store, {"title": "x", "evil": "y"})
    with pytest.raises(report.ReportError, match="needs a title"):
        report.save_text(store, {"title": "  "})
    with pytest.raises(report.ReportError, match="under 4,000"):
        report.save_text(store, {"scope": "x" * 4001})
    report.save_text(store, {"scope": "x" * 4000})


# --- HTML -------------------------------------------------------------------------------------------


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.imgs: list[dict] = []
        self.tables = 0
        self.scripts = 0
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        elif tag == "img":
            self.imgs.append(dict(attrs))
        elif tag == "table":
            self.tables += 1
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2[-1] += data


def _figures(rep: report.Report) -> list[report.Figure]:
    return [f.figure for s in rep.sections for f in s.findings if f.figure is not None]


def test_html_has_the_template_sections_images_and_tables(built) -> None:  # noqa: ANN001
    rep, files = built
    html = files["html"].decode("utf-8")
    outline = _Outline()
    outline.feed(html)
    assert outline.h2 == ["Contents", "Scope and purpose", "Method and response rate", "Data quality",
                          "Prevalence and distribution", "Gap maps by service area", "Geographic coverage",
                          "REDIE: are all families included?", "Strengths", "Gaps", "Duplications", "Reflect and act"]
    # Response, completeness, four distributions, one gap map (one area), the map, REDIE.
    assert len(outline.imgs) == len(_figures(rep)) == 9
    for img in outline.imgs:
        assert img["src"].startswith("data:image/png;base64,"), "self-contained"
        assert img["alt"]
    n_tables = sum(f.table is not None for s in rep.sections for f in s.findings)
    assert outline.tables == n_tables + len(report.REFLECTION_QUESTIONS)
    assert "Gap map: Infant feeding" in html and "Gap map: Parenting support" not in html
    assert "http://" not in html and "https://" not in html, "nothing fetched from outside"
    # Question 1 is answered from the needs data: wards with high deprivation and low provision.
    assert re.fullmatch(r"(1 ward combines|\d+ wards combine) high need with low provision: .+ \(deprivation score against "
                        r"services\)\.", rep.reflections[0].suggests)
    assert rep.reflections[0].suggests in html


def test_html_escapes_saved_text(built) -> None:  # noqa: ANN001
    _, files = built
    html = files["html"].decode("utf-8")
    outline = _Outline()
    outline.feed(html)
    assert outline.scripts == 0
    assert "<script>alert" not in html
    assert "Kestlemouth &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; partners" in html


def test_every_export_states_date_filters_and_privacy(built) -> None:  # noqa: ANN001
    rep, files = built
    assert rep.facts[:2] == ["Survey data as of 2025-10-15",
                             "Filters: Infant feeding, all target levels, services and interventions"]
    texts = {"html": files["html"].decode("utf-8"), "docx": _zip_text(files["docx"]),
             "pptx": _zip_text(files["pptx"]), "pdf": _pdf_text(files["pdf"])}
    for fmt, text in texts.items():
        flat = " ".join(text.split())
        assert "2025-10-15" in flat, fmt
        assert "Infant feeding, all target levels" in flat, fmt
        assert re.search(r"no personal data", flat, re.IGNORECASE), fmt


def _zip_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))


def _pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def test_no_export_contains_personal_data(built) -> None:  # noqa: ANN001
    _, files = built
    for fmt, data in files.items():
        if fmt in ("docx", "pptx"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:  # every part, XML or not
                blob = b"".join(z.read(n) for n in z.namelist()).decode("utf-8", "replace")
        elif fmt == "pdf":
            blob = _pdf_text(data)
        else:
            blob = data.decode("utf-8")
        assert EMAIL not in blob, fmt
        assert NAME not in blob, fmt


# --- Word -------------------------------------------------------------------------------------------


def test_docx_structure(built) -> None:  # noqa: ANN001
    from docx import Document

    rep, files = built
    doc = Document(io.BytesIO(files["docx"]))
    h1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert h1 == [s.heading for s in rep.sections] + ["Reflect and act"]
    assert doc.paragraphs[0].style.name == "Title" and doc.paragraphs[0].text == TITLE
    assert len(doc.inline_shapes) == len(_figures(rep))
    n_tables = sum(f.table is not None for s in rep.sections for f in s.findings)
    assert len(doc.tables) == n_tables + len(report.REFLECTION_QUESTIONS)
    # The last table row of question 6 carries the saved action.
    q6 = doc.tables[n_tables + 5]
    assert q6.rows[1].cells[1].text == "Keep the cafes open (Public health, June)"


# --- PDF --------------------------------------------------------------------------------------------


def test_pdf_renders_and_reads(built, tmp_path: Path) -> None:  # noqa: ANN001
    _, files = built
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(files["pdf"])
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 12
    assert "A4" in info or "595.28 x 841.89" in info
    SHOTS.mkdir(parents=True, exist_ok=True)
    text = _pdf_text(files["pdf"])
    gap_page = next(i for i, t in enumerate(text.split("\f"), start=1) if "Gap map: Infant feeding" in t)
    for first, name in ((1, "cover"), (gap_page, "gap-map")):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(first), "-l", str(first), "-singlefile", str(pdf),
                        str(SHOTS / f"report-pdf-{name}")], check=True)
    from PIL import Image

    cover = Image.open(SHOTS / "report-pdf-cover.png").convert("L")
    assert cover.size[1] > cover.size[0], "portrait"
    assert min(cover.getextrema()) < 100, "there is dark text on the page"
    assert "Page 1 of" in text
    assert "Reflect and act" in text


# --- PowerPoint ---------------------------------------------------------------------------------------


def test_pptx_one_finding_per_slide_with_images_and_notes(built) -> None:  # noqa: ANN001
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    rep, files = built
    prs = Presentation(io.BytesIO(files["pptx"]))
    assert len(prs.slides) == slides.slide_count(rep)
    pictures = [sh for s in prs.slides for sh in s.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == len(_figures(rep))
    for sh in pictures:  # every chart fits on its slide
        assert sh.left >= 0 and sh.top >= 0
        assert sh.left + sh.width <= prs.slide_width and sh.top + sh.height <= prs.slide_height
    notes = [s.notes_slide.notes_text_frame.text for s in prs.slides]
    assert all(n.strip() for n in notes), "every slide has speaker notes"
    # The numbers behind the response-rate chart are in its notes.
    response = next(s for s in prs.slides if any("agencies contacted returned" in sh.text_frame.text
                                                  for sh in s.shapes if sh.has_text_frame))
    assert re.search(r"Contacted \d+, responded \d+, rate \d+%", response.notes_slide.notes_text_frame.text)
    last = prs.slides[len(prs.slides) - 1]
    assert "Keep the cafes open" in " ".join(sh.text_frame.text for sh in last.shapes if sh.has_text_frame)


def test_unknown_formats_are_refused(tmp_path: Path) -> None:
    rep = report.Report(title="t", place="", data_date="d", filters="f", generated="g", demo=False, sections=(),
                        reflections=())
    with pytest.raises(report.ReportError, match=r"\.html, \.pdf or \.docx"):
        report.write_report(rep, tmp_path / "r.txt")
    with pytest.raises(report.ReportError, match=r"\.pptx"):
        slides.write_slides(rep, tmp_path / "s.ppt")
