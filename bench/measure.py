"""Server-side timings for one database, in a process of its own (so peak memory is per size).

Run as `python -m bench.measure --db D --export E --runs N --out result.json`. Times, each the
median of N runs after a warm-up: importing the export file (when `hubdash.imports` exists),
each analysis the pages show, and a full AppTest rerun of every page in app.py.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def timed(fn: Callable[[], Any], runs: int, *, warm: int = 1) -> dict[str, Any]:
    """Median seconds of `runs` calls after `warm` untimed ones (first calls fill caches).

    A failure is recorded as {"error": ...} so one broken analysis does not stop the benchmark.
    """
    try:
        for _ in range(warm):
            fn()
    except Exception as e:  # noqa: BLE001 - reported in the results
        import traceback

        return {"median": None, "error": f"{type(e).__name__}: {e}",
                "where": traceback.format_exc(limit=-3)}
    times = []
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "runs": times}


def analyses(store, frame) -> dict[str, Callable[[], Any]]:  # noqa: ANN001
    """The analyses behind the pages, for whichever feature modules exist."""
    import importlib

    from hubdash.schema import Filters
    from hubdash.services import service_frame

    out: dict[str, Callable[[], Any]] = {"service frame": lambda: service_frame(store)}
    from hubdash import gapmap

    out["gap map"] = lambda: gapmap.gap_grid(frame)

    def opt(name: str) -> Any:
        try:
            return importlib.import_module(name)
        except ImportError:
            return None

    if (m := opt("hubdash.quality")) and hasattr(m, "build_report"):
        out["quality"] = lambda: m.build_report(store, frame, all_services=frame)
    if (c := opt("hubdash.coverage")) is not None:
        fn = next((getattr(c, n) for n in ("coverage_report", "build_report", "ward_coverage", "coverage")
                   if callable(getattr(c, n, None))), None)
        if fn is not None:
            out["coverage"] = lambda: fn(store, frame)
    if (r := opt("hubdash.redie")) and hasattr(r, "reflections"):
        out["REDIE"] = lambda: (r.reflections(store, frame, filters=Filters()), r.ward_equity(store, frame))
    return out


def ingest_rate(db: Path, export: Path, runs: int) -> dict[str, Any] | None:
    """Rows a second importing `export` into a copy of `db` (None until hubdash.imports exists)."""
    try:
        from bench.ingest import import_file
    except ImportError:
        return None
    if import_file is None:
        return None
    from hubdash.store import Store

    import csv

    with export.open(encoding="utf-8", newline="") as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
    tmp = Path(tempfile.mkdtemp(prefix="hubdash-bench-"))
    os.environ["HUBDASH_BACKUP_DIR"] = str(tmp / "backups")  # keep automatic backups out of data/
    times, accepted = [], None
    try:
        for i in range(runs + 1):
            copy = tmp / f"ingest-{i}.duckdb"
            shutil.copyfile(db, copy)
            with Store(copy) as s:
                t = time.perf_counter()
                n = import_file(s, export)
                dt = time.perf_counter() - t
            accepted = n  # reported beside the rate: every row of the export should be accepted
            if i:  # the first run warms imports and caches
                times.append(dt)
            copy.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = statistics.median(times)
    return {"rows": rows, "accepted": accepted, "median": med, "rows_per_s": rows / med, "runs": times}


def apptest_pages(db: Path, runs: int) -> dict[str, Any]:
    """A full rerun of every page (AppTest, server time): warm once, then the median of reruns."""
    from streamlit.testing.v1 import AppTest

    from bench.pages import app_pages

    os.environ["HUBDASH_DB"] = str(db)
    out = {}
    empty = AppTest.from_file(str(ROOT / "bench" / "empty_app.py"), default_timeout=300)
    out["(empty page)"] = timed(lambda: empty.run(), runs)
    for spec in app_pages():
        at = AppTest.from_file(str(ROOT / spec.file), default_timeout=300)

        def run(at: AppTest = at, spec: Any = spec) -> None:
            at.run()
            if at.exception:
                ex = at.exception[0]
                raise RuntimeError(f"{spec.file} raised: {ex.message} | " + " ".join(ex.stack_trace[-3:]))

        out[spec.title] = timed(run, runs)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--export", type=Path, required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--profile", type=Path, default=None, help="write pyinstrument HTML of one rerun per page here")
    a = p.parse_args(argv)
    warnings.simplefilter("ignore")
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)

    from hubdash.services import service_frame
    from hubdash.store import Store

    result: dict[str, Any] = {}
    result["ingest"] = ingest_rate(a.db, a.export, max(1, min(a.runs, 3)))
    with Store(a.db) as store:
        frame = service_frame(store)
        result["services"] = len(frame)
        result["wards"] = int(store.scalar("SELECT count(*) FROM wards"))
        result["analyses"] = {name: timed(fn, a.runs) for name, fn in analyses(store, frame).items()}
    result["pages"] = apptest_pages(a.db, a.runs)
    if a.profile:
        profile_pages(a.db, a.profile)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    a.out.write_text(json.dumps(result, indent=2))
    return 0


PROFILED = """
from pyinstrument import Profiler
_p = Profiler(interval=0.001)
_p.start()
try:
    exec(compile(open({page!r}).read(), {page!r}, "exec"), {{"__name__": "__main__", "__file__": {page!r}}})
finally:
    _p.stop()
    open({out!r}, "w").write(_p.output_text(unicode=False, color=False, show_all=False))
    open({html!r}, "w").write(_p.output_html())
"""


def profile_pages(db: Path, out_dir: Path) -> None:
    """One profiled warm rerun of each page, as pyinstrument text and HTML (finding what is slow).

    The profiler runs inside the script thread (AppTest runs pages on a thread of its own).
    """
    from streamlit.testing.v1 import AppTest

    from bench.pages import app_pages

    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ["HUBDASH_DB"] = str(db)
    for spec in app_pages():
        stem = Path(spec.file).stem
        at = AppTest.from_file(str(ROOT / spec.file), default_timeout=300)
        at.run()  # warm the caches first: the profile is of a rerun
        wrapper = AppTest.from_string(PROFILED.format(page=str(ROOT / spec.file), out=str(out_dir / f"{stem}.txt"),
                                                      html=str(out_dir / f"{stem}.html")), default_timeout=300)
        wrapper.run()


if __name__ == "__main__":
    raise SystemExit(main())
