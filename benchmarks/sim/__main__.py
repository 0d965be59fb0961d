"""``python -m benchmarks.sim``: measure, write results.json, RESULTS.md and sim.png.

``--only throughput|sweep|million`` measures one section into the existing results.json.
``--quick`` is a smoke run (tiny counts, no targets checked); ``--render-only`` rewrites
RESULTS.md and the plot from results.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from .report import markdown, plot
from .suite import Settings, million, run, sweep_scaling, throughput

SECTIONS = {"throughput": throughput, "sweep": sweep_scaling, "million": million}

HERE = Path(__file__).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sim", description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write to")
    parser.add_argument("--quick", action="store_true", help="tiny counts (a smoke run)")
    parser.add_argument("--render-only", action="store_true", help="rewrite the page only")
    parser.add_argument("--emails", type=int, help="emails of the long run (1,000,000)")
    parser.add_argument(
        "--only",
        choices=("throughput", "sweep", "million"),
        help="measure that section alone, into the existing results.json",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "results.json"
    if args.render_only:
        results = json.loads(path.read_text("utf-8"))
    else:
        settings = Settings.quick() if args.quick else Settings()
        if args.emails is not None:
            settings = dataclasses.replace(settings, million_emails=args.emails)
        if args.only is not None:
            results = json.loads(path.read_text("utf-8"))
            results[args.only] = SECTIONS[args.only](settings)
        else:
            results = run(settings)
        path.write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    (args.out / "RESULTS.md").write_text(markdown(results), "utf-8")
    plot(results, args.out / "sim.png")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
