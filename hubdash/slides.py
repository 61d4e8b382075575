"""The workshop deck (the guide's template 7) from the same content as the report.

One finding per slide: the finding is the slide title, its chart (or a short table, or its
bullets) fills the slide, and the speaker notes carry the numbers behind it, so the presenter
can answer "how many exactly?" without leaving the slide. Every slide's footer states the data
date, the filters and that the deck holds no personal data.
"""

from __future__ import annotations

import io
from pathlib import Path

from hubdash.report import Finding, Report, ReportError, Table

# 16:9 at PowerPoint's default size, in inches.
WIDTH_IN, HEIGHT_IN = 13.333, 7.5
MARGIN_IN = 0.5
TITLE_TOP_IN, TITLE_H_IN = 0.3, 1.15
BODY_TOP_IN = 1.55
FOOTER_H_IN = 0.35
MAX_TABLE_ROWS = 10
MAX_BULLETS = 6

INK = (0x1A, 0x1A, 0x1A)
MUTED = (0x4D, 0x4D, 0x4D)
ACCENT = (0x0B, 0x5C, 0xAD)


def _deck_findings(report: Report) -> list[tuple[str, Finding]]:
    """(section heading, finding) for every slide after the title and purpose slides."""
    out = []
    for s in report.sections:
        if s.key == "scope":
            continue
        for i, f in enumerate(s.findings):
            # REDIE's prompts are discussion material: the chart plus the first three prompts.
            if s.key == "redie" and i > 3:
                continue
            out.append((s.heading, f))
    return out


def slide_count(report: Report) -> int:
    """How many slides `to_pptx` makes: title, purpose, findings, reflection questions, actions."""
    return 2 + len(_deck_findings(report)) + 2 + 1


def to_pptx(report: Report) -> bytes:
    """The deck as .pptx bytes."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
    from pptx.util import Emu, Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(WIDTH_IN), Inches(HEIGHT_IN)
    blank = prs.slide_layouts[6]
    footer_text = (f"{report.place + ' · ' if report.place else ''}Survey data as of {report.data_date} · "
                   f"{report.filters} · No personal data" + (" · Fictional demo data" if report.demo else ""))

    def text_box(slide, left, top, width, height, lines, *, size=20, bold=False, colour=INK,  # noqa: ANN001, ANN202
                 bullets=False, anchor=MSO_ANCHOR.TOP):
        box = slide.shapes.add_textbox(left, top, width, height)
        tf = box.text_frame
        tf.word_wrap = True
        tf.vertical_anchor = anchor
        for i, line in enumerate(lines):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            p.text = ("• " if bullets else "") + line
            p.space_after = Pt(8 if bullets else 4)
            for run in p.runs:
                run.font.size = Pt(size)
                run.font.bold = bold
                run.font.color.rgb = RGBColor(*colour)
        return box

    def new_slide(title: str, notes: str, *, kicker: str = ""):  # noqa: ANN202
        slide = prs.slides.add_slide(blank)
        if kicker:
            text_box(slide, Inches(MARGIN_IN), Inches(0.12), Inches(WIDTH_IN - 2 * MARGIN_IN), Inches(0.35),
                     [kicker.upper()], size=12, colour=ACCENT, bold=True)
        # Two lines fit above the body at any of these sizes (about 60, 77 and 95 characters a line).
        size = 28 if len(title) <= 95 else 22 if len(title) <= 135 else 18
        text_box(slide, Inches(MARGIN_IN), Inches(TITLE_TOP_IN + 0.1), Inches(WIDTH_IN - 2 * MARGIN_IN),
                 Inches(TITLE_H_IN), [title], size=size, bold=True, anchor=MSO_ANCHOR.TOP)
        text_box(slide, Inches(MARGIN_IN), Inches(HEIGHT_IN - FOOTER_H_IN - 0.1), Inches(WIDTH_IN - 2 * MARGIN_IN),
                 Inches(FOOTER_H_IN), [footer_text], size=10, colour=MUTED)
        slide.notes_slide.notes_text_frame.text = notes
        return slide

    body_w = Inches(WIDTH_IN - 2 * MARGIN_IN)
    body_h = Inches(HEIGHT_IN - BODY_TOP_IN - FOOTER_H_IN - 0.25)

    def add_picture(slide, png: bytes) -> None:  # noqa: ANN001
        from hubdash.report import Figure

        w, h = Figure("", png, "").size
        scale = min(body_w / w, body_h / h)
        pw, ph = int(w * scale), int(h * scale)
        left = Emu(int((prs.slide_width - pw) / 2))
        slide.shapes.add_picture(io.BytesIO(png), left, Inches(BODY_TOP_IN), width=pw, height=ph)

    def add_table(slide, t: Table, width) -> None:  # noqa: ANN001
        rows = t.rows[:MAX_TABLE_ROWS]
        wordy = any(len(v) > 40 for r in rows for v in r)
        shape = slide.shapes.add_table(len(rows) + 1, len(t.columns), Inches(MARGIN_IN), Inches(BODY_TOP_IN),
                                       width, Inches(0.4 * (len(rows) + 1)))
        table = shape.table
        for j, c in enumerate(t.columns):
            table.cell(0, j).text = c
        for i, r in enumerate(rows, start=1):
            for j, v in enumerate(r):
                table.cell(i, j).text = v
        for i in range(len(rows) + 1):
            for j in range(len(t.columns)):
                for p in table.cell(i, j).text_frame.paragraphs:
                    if t.numeric[j]:
                        p.alignment = PP_ALIGN.RIGHT
                    for run in p.runs:
                        run.font.size = Pt(12 if wordy or len(t.columns) > 4 else 16)

    # 1. Title (own text boxes: the default layout's placeholders are placed for 4:3)
    slide = prs.slides.add_slide(blank)
    full_w = Inches(WIDTH_IN - 2 * MARGIN_IN - 0.5)
    left = Inches(MARGIN_IN + 0.25)
    text_box(slide, left, Inches(1.2), full_w, Inches(0.4), ["STAKEHOLDER WORKSHOP · MAPPING SUPPORT FOR FAMILIES"],
             size=14, bold=True, colour=ACCENT)
    text_box(slide, left, Inches(1.7), full_w, Inches(1.8), [report.title], size=40, bold=True,
             anchor=MSO_ANCHOR.TOP)
    text_box(slide, left, Inches(3.9), full_w, Inches(2.4), report.facts + [
        "No personal data: contact names and email addresses are never shown."], size=18, colour=MUTED)
    slide.notes_slide.notes_text_frame.text = report.privacy

    # 2. Scope and purpose
    scope = next((s for s in report.sections if s.key == "scope"), None)
    lines = [p for f in (scope.findings if scope else ()) for p in f.body]
    slide = new_slide("Why we mapped support for families", "\n".join(lines), kicker="Scope and purpose")
    text_box(slide, Inches(MARGIN_IN), Inches(BODY_TOP_IN), body_w, body_h, lines, size=22)

    # 3. One finding per slide
    for heading, f in _deck_findings(report):
        slide = new_slide(f.headline, f.speaker_notes(), kicker=heading)
        if f.figure is not None:
            add_picture(slide, f.figure.png)
        elif f.table is not None and f.bullets:
            # Table on the left, what it means on the right: neither can run into the other.
            left_w = int(body_w * 0.58)
            add_table(slide, f.table, left_w)
            text_box(slide, Inches(MARGIN_IN) + left_w + Inches(0.3), Inches(BODY_TOP_IN),
                     body_w - left_w - Inches(0.3), body_h, list(f.bullets[:4]), size=16, bullets=True)
        elif f.table is not None:
            add_table(slide, f.table, body_w)
        else:
            items = list(f.bullets[:MAX_BULLETS]) or list(f.body[:MAX_BULLETS])
            text_box(slide, Inches(MARGIN_IN), Inches(BODY_TOP_IN), body_w, body_h, items, size=20, bullets=True)

    # 4. Reflection questions (the guide's step 6), with what the data suggests in the notes
    first, rest = report.reflections[:3], report.reflections[3:]
    notes = "\n".join(f"{r.question.number}. {r.question.text} — {r.suggests}" for r in first if r.suggests)
    slide = new_slide("Pause and reflect: is our offer balanced?", notes, kicker="Reflect")
    text_box(slide, Inches(MARGIN_IN), Inches(BODY_TOP_IN), body_w, body_h,
             [f"{r.question.number}. {r.question.text}" for r in first], size=22, bullets=False)
    notes = "\n".join(f"{r.question.number}. {r.question.text} — {r.suggests}" for r in rest if r.suggests)
    slide = new_slide("Reflections", notes, kicker="Reflect")
    text_box(slide, Inches(MARGIN_IN), Inches(BODY_TOP_IN), body_w, body_h,
             [f"{r.question.number}. {r.question.text}" for r in rest], size=18)

    # 5. Actions agreed so far (blank lines when none yet: the workshop fills them in)
    agreed = [f"{r.question.number}. {r.actions}" for r in report.reflections if r.actions]
    slide = new_slide("Actions and next steps", "\n".join(agreed) or "No actions recorded yet: agree them in the "
                      "workshop and enter them on the Reflect and act page.", kicker="Act")
    text_box(slide, Inches(MARGIN_IN), Inches(BODY_TOP_IN), body_w, body_h,
             agreed or ["Who will do what, by when?", "", "", ""], size=20, bullets=bool(agreed))

    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def write_slides(report: Report, path: Path) -> Path:
    """Write the deck to a .pptx file."""
    if path.suffix.lower() != ".pptx":
        raise ReportError(f"{path.name}: slides are written as .pptx, not '{path.suffix or 'no extension'}'.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_pptx(report))
    return path
