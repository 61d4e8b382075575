"""`python -m hubdash bench`: build synthetic databases at three sizes and time everything.

For each size: a database from `hubdash.synth` (cached in the work folder, rebuilt when its
specification changes) and a survey export of as many rows as it has services; then, in a
separate process per size (so peak memory is that size's), ingestion, each analysis and an
AppTest rerun of every page; then, unless `--no-browser`, open-to-chart times in Chromium, and
an empty Streamlit page as the floor. Prints a table, checks the targets, writes JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC_VERSION = "4"

#: The targets from the issue (2-core machine).
SERVER_TARGET = {"county": 0.3, "national": 1.5}
GROWTH_TARGET = {"county": 2.0, "national": 6.0}
BROWSER_TARGET = {"county": 2.0}
INGEST_TARGET = 5_000.0
PEAK_TARGET_MB = {"national": 1024.0}


def _spec(size: str, geojson: Path | None) -> str:
    from hubdash import synth

    n, w = synth.SIZES[size]
    source = "generated"
    if size == "national":
        path = geojson or synth.ENGLAND_WARDS
        source = f"{path.name}:{path.stat().st_size}" if path.is_file() else f"generated-{synth.NATIONAL_FALLBACK_WARDS}"
    return f"v{SPEC_VERSION}|{size}|{n}|{w}|{source}|seed{synth.SEED}"


def prepare(size: str, workdir: Path, *, geojson: Path | None, rebuild: bool) -> tuple[Path, Path]:
    """The size's database and export file, built unless a matching one is cached."""
    from hubdash import synth
    from hubdash.store import Store

    workdir.mkdir(parents=True, exist_ok=True)
    db, export = workdir / f"{size}.duckdb", workdir / f"{size}-export.csv"
    spec = _spec(size, geojson)
    if db.exists() and not rebuild:
        try:
            with Store(db) as s:
                if s.meta("bench_spec") == spec and export.exists():
                    return db, export
        except Exception:  # noqa: BLE001 - a broken cache file is simply rebuilt
            pass
    for f in (db, Path(str(db) + ".wal")):
        f.unlink(missing_ok=True)
    t = time.perf_counter()
    with Store(db) as s:
        synth.build_size(s, size, geojson=geojson)
        s.set_meta("bench_spec", spec)
        wards = [synth.Ward(c, n, loc or "", None) for c, n, loc in
                 s.rows("SELECT ward_code, ward_name, locality FROM wards ORDER BY ward_code")]
        s.checkpoint()
    synth.export_for(synth.SIZES[size][0], wards, export)
    print(f"  built {size}: {db.name} and {export.name} in {time.perf_counter() - t:.1f} s", flush=True)
    return db, export


def measure(db: Path, export: Path, runs: int, workdir: Path, *, profile: bool) -> dict[str, Any]:
    out = workdir / f"{db.stem}-measure.json"
    cmd = [sys.executable, "-m", "bench.measure", "--db", str(db), "--export", str(export), "--runs", str(runs),
           "--out", str(out)]
    if profile:
        cmd += ["--profile", str(workdir / f"profile-{db.stem}")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HUBDASH_PASSPHRASE_EDITOR", None)
    env.pop("HUBDASH_PASSPHRASE_VIEWER", None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"measuring {db.name} failed:\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text())


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)


def assemble(raw: dict[str, dict[str, Any]], empty: float | None) -> dict[str, Any]:
    """The JSON the issue specifies (rounded), from the raw measurements."""
    sizes: dict[str, Any] = {}
    small = raw.get("small")
    for size, r in raw.items():
        pages = {}
        for title, t in r["pages"].items():
            if title.startswith("("):
                continue
            base = small["pages"].get(title, {}).get("median") if small else None
            browser = (r.get("browser") or {}).get(title)
            pages[title] = {"seconds": _r(t["median"]),
                            "vs_small": _r(t["median"] / base, 2) if base and t["median"] is not None else None,
                            "browser_seconds": _r(browser["median"]) if browser else None}
        sizes[size] = {"services": r["services"], "wards": r["wards"],
                       "ingest_rows_per_s": _r(r["ingest"]["rows_per_s"], 0) if r.get("ingest") else None,
                       "peak_mb": _r(r["peak_mb"], 1), "pages": pages}
    return {"empty_page_seconds": _r(empty), "sizes": sizes}


def misses(result: dict[str, Any], raw: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Targets not met (and pages that failed), in words."""

    def raw_error(size: str, page: str) -> str:
        return str(((raw or {}).get(size, {}).get("pages", {}).get(page) or {}).get("error", "error"))

    out = []
    for size, r in result["sizes"].items():
        for page, p in r["pages"].items():
            if p["seconds"] is None:
                out.append(f"{size} {page}: failed ({raw_error(size, page)})")
                continue
            if size in SERVER_TARGET and p["seconds"] > SERVER_TARGET[size]:
                out.append(f"{size} {page}: server {p['seconds']:.3f} s > {SERVER_TARGET[size]} s")
            if size in GROWTH_TARGET and p["vs_small"] is not None and p["vs_small"] > GROWTH_TARGET[size]:
                out.append(f"{size} {page}: {p['vs_small']:.2f}x small > {GROWTH_TARGET[size]}x")
            if size in BROWSER_TARGET and p["browser_seconds"] is not None \
                    and p["browser_seconds"] > BROWSER_TARGET[size]:
                out.append(f"{size} {page}: browser {p['browser_seconds']:.2f} s > {BROWSER_TARGET[size]} s")
        if r["ingest_rows_per_s"] is not None and r["ingest_rows_per_s"] < INGEST_TARGET:
            out.append(f"{size} ingestion: {r['ingest_rows_per_s']:,.0f} rows/s < {INGEST_TARGET:,.0f}")
        if size in PEAK_TARGET_MB and r["peak_mb"] > PEAK_TARGET_MB[size]:
            out.append(f"{size} peak memory {r['peak_mb']:.0f} MB > {PEAK_TARGET_MB[size]:.0f} MB")
    return out


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def table(result: dict[str, Any], raw: dict[str, dict[str, Any]]) -> str:
    """The results as a Markdown table (pages), plus analyses and the floor."""
    sizes = list(result["sizes"])
    lines = ["| Page | " + " | ".join(f"{s}: server s (x small) / browser s" for s in sizes) + " |",
             "| --- | " + " | ".join("---:" for _ in sizes) + " |"]
    titles = list(next(iter(result["sizes"].values()))["pages"]) if sizes else []
    for t in titles:
        cells = []
        for s in sizes:
            p = result["sizes"][s]["pages"].get(t)
            if not p:
                cells.append("-")
                continue
            growth = f" ({p['vs_small']:.1f}x)" if p["vs_small"] is not None and s != "small" else ""
            nochart = "" if ((raw[s].get("browser") or {}).get(t) or {}).get("chart", True) else " (no chart)"
            cells.append(f"{_fmt(p['seconds'], '.3f')}{growth} / {_fmt(p['browser_seconds'], '.2f')}{nochart}")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    analyses = sorted({a for s in sizes for a in raw[s]["analyses"]}, key=lambda a: (a != "service frame", a))
    for a in analyses:
        lines.append(f"| *{a} (analysis)* | " + " | ".join(
            _fmt((raw[s]["analyses"].get(a) or {}).get("median"), ".3f") for s in sizes) + " |")
    lines.append("| *Empty page (AppTest floor)* | " + " | ".join(
        _fmt(raw[s]["pages"].get("(empty page)", {}).get("median"), ".3f") for s in sizes) + " |")
    lines.append("| Services / wards | " + " | ".join(
        f"{result['sizes'][s]['services']:,} / {result['sizes'][s]['wards']:,}" for s in sizes) + " |")
    lines.append("| Ingestion, rows/s | " + " | ".join(
        _fmt(result["sizes"][s]["ingest_rows_per_s"], ",.0f") for s in sizes) + " |")
    lines.append("| Peak memory, MB | " + " | ".join(_fmt(result["sizes"][s]["peak_mb"], ",.0f") for s in sizes) + " |")
    floor = result["empty_page_seconds"]
    lines.append("")
    lines.append(f"Empty Streamlit page in the browser (the floor): {_fmt(floor, '.2f')} s. Browser figures are "
                 "from opening the page in a new tab to its first chart drawn; for a page with no chart, to "
                 "the page finishing its run.")
    return "\n".join(lines)


def main(*, sizes: list[str], json_path: Path | None = None, browser: bool = True, runs: int = 5,
         workdir: Path | None = None, geojson: Path | None = None, rebuild: bool = False,
         profile: bool = False) -> int:
    """Run the benchmark; returns 0 (targets missed are reported, not failures)."""
    from hubdash import synth
    from hubdash.errors import HubdashError

    unknown = [s for s in sizes if s not in synth.SIZES]
    if unknown or not sizes:
        raise HubdashError(f"Unknown size(s) {', '.join(unknown) or '(none)'}: choose from "
                           f"{', '.join(synth.SIZES)}.", title="Unknown benchmark size")
    sizes = [s for s in synth.SIZES if s in sizes]  # always small first: it is the baseline
    workdir = workdir or ROOT / "artifacts" / "bench"
    raw: dict[str, dict[str, Any]] = {}
    for size in sizes:
        print(f"{size}:", flush=True)
        db, export = prepare(size, workdir, geojson=geojson, rebuild=rebuild)
        t = time.perf_counter()
        raw[size] = measure(db, export, runs, workdir, profile=profile)
        print(f"  server timings in {time.perf_counter() - t:.0f} s", flush=True)
        if browser:
            from bench.browser import page_times
            from bench.pages import app_pages

            t = time.perf_counter()
            raw[size]["browser"] = page_times(db, app_pages(), max(1, min(runs, 3)), workdir)
            print(f"  browser timings in {time.perf_counter() - t:.0f} s", flush=True)
    empty = None
    if browser:
        from bench.browser import empty_page_time

        empty = empty_page_time(max(3, runs), workdir)
    result = assemble(raw, empty)
    print()
    print(table(result, raw))
    missed = misses(result, raw)
    print()
    print("Targets: all met." if not missed else "Targets missed:\n" + "\n".join(f"- {m}" for m in missed))
    if json_path:
        json_path = Path(json_path)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2))
        details = json_path.with_name(json_path.stem + ".details.json")
        details.write_text(json.dumps({"raw": raw, "missed": missed}, indent=2, default=str))
        print(f"\nWrote {json_path} (and the raw runs to {details.name})")
    return 0
