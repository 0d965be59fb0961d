"""``python -m benchmarks``: run the suite, write results.json, RESULTS.md and scale.png.

``--only import|boundary|eviction`` measures that section alone and replaces it in an
existing results.json (the import and eviction sections carry their own date and load;
``--import-only`` is ``--only import``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .importtime import measure as measure_imports
from .report import markdown, plot
from .suite import Settings, boundary, eviction, run

HERE = Path(__file__).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write to")
    parser.add_argument("--quick", action="store_true", help="tiny counts (a smoke run)")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite RESULTS.md and the plot only"
    )
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="measure the import time only, into the existing results.json",
    )
    parser.add_argument(
        "--only",
        choices=("import", "boundary", "eviction"),
        help="measure that section only, into the existing results.json",
    )
    args = parser.parse_args(argv)
    only: str | None = "import" if args.import_only else args.only
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = out / "results.json"
    settings = Settings.tiny() if args.quick else Settings()
    if args.render_only:
        results = json.loads(data.read_text())
    elif only is not None:
        results = json.loads(data.read_text())
        if only == "import":
            results["import"] = measure_imports(settings.import_repeats, log=_log)
        elif only == "boundary":
            results["boundary"] = boundary(settings, _log)
        else:
            results["eviction"] = eviction(settings)
        data.write_text(json.dumps(results, indent=1) + "\n")
    else:
        results = run(settings, log=_log)
        data.write_text(json.dumps(results, indent=1) + "\n")
    (out / "RESULTS.md").write_text(markdown(results))
    if only is not None:  # the plot is of the other sections: it stays as it is
        _log(f"wrote {data} and {out / 'RESULTS.md'}")
        return 0
    plot(results, out / "scale.png")
    _log(f"wrote {data}, {out / 'RESULTS.md'} and {out / 'scale.png'}")
    return 0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
