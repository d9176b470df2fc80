"""The robustness run: every stochastic claim of the book re-evaluated on seeds no notebook uses.

Each chapter is executed once (in memory, from its MyST source) with ``KEXUE_ROBUSTNESS_OUT`` set. Every
claim then appends a record to a JSON-lines file, and a claim with ``rerun=`` is re-evaluated on each
of ``kexue_utils.claims.ROBUSTNESS_SEEDS`` first (see :mod:`kexue_utils.claims`). This script prints the
pass fraction of every stochastic claim and fails unless every one passes on every fresh seed.

    python scripts/robustness.py                 # all chapters; table on stdout
    python scripts/robustness.py book/mad.md     # one chapter
    python scripts/robustness.py --write         # also update book/_data/robustness.json (commit it)
    python scripts/robustness.py --check         # CI: also fail if the committed summary is out of date
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = ROOT / "book" / "_data" / "robustness.json"
sys.path.insert(0, str(ROOT))

from kexue_utils.claims import ROBUSTNESS_ENV, ROBUSTNESS_SEEDS  # noqa: E402


def chapters() -> list[Path]:
    return sorted(
        p for p in (ROOT / "book").glob("*.md") if p.read_text(encoding="utf-8").startswith("---\njupytext:")
    )


def run_chapter(md: Path) -> tuple[str, list[dict], float, str]:
    """Execute one chapter with the robustness variable set; return (name, records, seconds, error)."""
    import jupytext
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "claims.jsonl"
        os.environ[ROBUSTNESS_ENV] = str(out)
        # Chapters run side by side: one BLAS thread each, or idle BLAS threads spin against each other.
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
        nb = jupytext.read(md)
        start = time.perf_counter()
        error = ""
        try:
            NotebookClient(
                nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(md.parent)}}
            ).execute()
        except Exception as exc:  # the chapter itself failed: report it, the run fails
            error = f"{type(exc).__name__}: {str(exc)[-600:]}"
        records = (
            [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
            if out.exists()
            else []
        )
        return md.stem, records, time.perf_counter() - start, error


def summarise(results: list[tuple[str, list[dict], float, str]]) -> dict:
    claims: dict[str, dict] = {}
    for chapter, records, _, _ in results:
        for rec in records:
            entry = {"chapter": chapter, "kind": rec["kind"], "stochastic": rec["stochastic"]}
            if rec["stochastic"]:
                runs = rec["runs"]
                margins = [r["margin"] for r in runs if r["passed"]]
                entry |= {
                    "runs": len(runs),
                    "passed": sum(r["passed"] for r in runs),
                    "worst_margin": round(min(margins), 3) if len(margins) == len(runs) else None,
                    "seconds": rec["seconds"],
                    "failures": [f"seed {r['seed']}: {r['measure']}" for r in runs if not r["passed"]],
                }
            claims[rec["label"]] = entry
    return {"seeds": list(ROBUSTNESS_SEEDS), "claims": claims}


def comparable(summary: dict) -> dict:
    """What the committed summary must agree with (margins and seconds vary with the machine)."""
    keep = ("chapter", "kind", "stochastic", "runs", "passed")
    return {
        "seeds": summary["seeds"],
        "claims": {k: {f: v.get(f) for f in keep} for k, v in summary["claims"].items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("chapters", nargs="*", type=Path, help="book/<chapter>.md (default: all)")
    parser.add_argument("--write", action="store_true", help=f"write {SUMMARY.relative_to(ROOT)}")
    parser.add_argument("--check", action="store_true", help="fail if the committed summary differs")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    selected = [p.resolve() for p in args.chapters] or chapters()
    # Longest first (by the re-run time of the last summary), so that the workers finish together.
    last = json.loads(SUMMARY.read_text(encoding="utf-8"))["claims"] if SUMMARY.exists() else {}
    seconds = [(e["chapter"], e.get("seconds", 0)) for e in last.values()]
    cost = {md.stem: sum(t for ch, t in seconds if ch == md.stem) for md in selected}
    selected.sort(key=lambda md: -cost[md.stem])
    if (args.write or args.check) and args.chapters:
        parser.error("--write and --check need the whole book (no chapter arguments)")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_chapter, selected))
    summary = summarise(results)
    ok = True
    first, last = ROBUSTNESS_SEEDS[0], ROBUSTNESS_SEEDS[-1]
    print(f"Robustness run: stochastic claims re-evaluated on seeds {first}–{last}")
    for chapter, records, seconds, error in results:
        print(f"\n{chapter}: executed in {seconds:.0f} s, {len(records)} claims")
        if error:
            ok = False
            print(f"  CHAPTER FAILED: {error}")
    print(f"\n{'claim':34} {'kind':13} {'passed':>7} {'worst margin':>12} {'seconds':>8}")
    for label, entry in summary["claims"].items():
        if not entry["stochastic"]:
            continue
        worst = "—" if entry["worst_margin"] is None else f"{entry['worst_margin']:.0%}"
        passed = f"{entry['passed']:>3}/{entry['runs']:<3}"
        print(f"{label:34} {entry['kind']:13} {passed} {worst:>12} {entry['seconds']:>8.1f}")
        for failure in entry["failures"]:
            print(f"    ✗ {failure}")
        ok = ok and entry["passed"] == entry["runs"]
    n_stochastic = sum(e["stochastic"] for e in summary["claims"].values())
    print(
        f"\n{n_stochastic} stochastic claims of {len(summary['claims'])}; "
        + ("all pass on every fresh seed." if ok else "FAILURES above.")
    )
    if args.check:
        committed = json.loads(SUMMARY.read_text(encoding="utf-8")) if SUMMARY.exists() else None
        if committed is None or comparable(committed) != comparable(summary):
            ok = False
            print(f"{SUMMARY.relative_to(ROOT)} is out of date: run `make robustness` and commit it.")
    if args.write and ok:
        SUMMARY.parent.mkdir(parents=True, exist_ok=True)
        SUMMARY.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {SUMMARY.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
