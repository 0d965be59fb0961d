"""``python -m benchmarks.server``: run the server benchmark, write results.json,
RESULTS.md and server.png (``--quick``: a reduced run; ``--render-only``: rewrite
RESULTS.md and the plot from results.json)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report import markdown, plot
from .suite import Settings, run

HERE = Path(__file__).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server", description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write to")
    parser.add_argument("--quick", action="store_true", help="a reduced run (about a minute)")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite RESULTS.md and the plot only"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = out / "results.json"
    if args.render_only:
        results = json.loads(data.read_text())
    else:
        results = run(Settings.quick() if args.quick else Settings(), log=_log)
        data.write_text(json.dumps(results, indent=1) + "\n")
    (out / "RESULTS.md").write_text(markdown(results))
    plot(results, out / "server.png")
    _log(f"wrote {data}, {out / 'RESULTS.md'} and {out / 'server.png'}")
    return 0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
