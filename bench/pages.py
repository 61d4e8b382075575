"""The app's pages, read from app.py's PAGES without running it (app.py starts Streamlit)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    """One `st.Page` in app.py: its file, title and URL path ("" for the default page)."""

    file: str
    title: str
    url_path: str


def app_pages(app: Path = ROOT / "app.py") -> list[PageSpec]:
    """Every `st.Page(...)` declared in app.py, in order."""
    out = []
    for node in ast.walk(ast.parse(app.read_text())):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page"):
            continue
        file = node.args[0].value  # type: ignore[attr-defined]
        kw = {k.arg: k.value for k in node.keywords}
        title = kw["title"].value if "title" in kw else Path(file).stem.replace("_", " ").capitalize()
        default = "default" in kw and getattr(kw["default"], "value", False)
        url = "" if default else (kw["url_path"].value if "url_path" in kw else Path(file).stem)
        out.append((node.lineno, PageSpec(file, title, url)))
    return [p for _, p in sorted(out, key=lambda t: t[0])]
