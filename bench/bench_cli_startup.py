"""Start-up time of the command line: `uzibot --help` and `uzibot cert FILE` against bare Python.

Run: python bench/bench_cli_startup.py [--root DIR ...] [--runs N]
Each command is started N times as `python -m bot.cli.main ...` with the working directory
at each --root (default: this checkout), so another checkout (e.g. an export of main) is
measured in the same run; the runs of all roots are interleaved, so a busy machine slows all
alike. Prints the median and the best wall time per command, and the heavy packages each
command imports (from `python -X importtime`).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
HEAVY = ("pydantic_settings", "pydantic", "fastapi", "sqlalchemy", "uvicorn", "cryptography")


def once(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def imports(args: list[str], cwd: Path, runs: int = 5) -> tuple[float, list[str]]:
    """Best total import time (ms, top-level modules' cumulative) and the heavy ones loaded."""
    cmd = [sys.executable, "-X", "importtime", "-m", "bot.cli.main", *args]
    best, names = float("inf"), set()
    for _ in range(runs):
        err = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True).stderr
        rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:")]
        rows = [row for row in rows if row[1].strip().isdigit()]
        total = sum(int(row[1]) for row in rows if not row[2].startswith("  "))
        best = min(best, total / 1000)
        names = {row[2].strip() for row in rows}
    return best, [name for name in HEAVY if name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, action="append", default=None)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    roots = [root.resolve() for root in (args.root or [HERE])]
    cert = str(HERE / "bot" / "examples" / "servercertificaat.crt")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "uzibot --help": [sys.executable, "-m", "bot.cli.main", "--help"],
        "uzibot cert FILE": [sys.executable, "-m", "bot.cli.main", "cert", cert],
    }
    times: dict[tuple[Path, str], list[float]] = {}
    for _ in range(args.runs):
        for root in roots:
            for name, cmd in commands.items():
                times.setdefault((root, name), []).append(once(cmd, root))
    for root in roots:
        print(f"root: {root}")
        print(f"  {'command':<18} {'median ms':>10} {'best ms':>8} {'imports ms':>11}  heavy")
        for name, cmd in commands.items():
            got = times[(root, name)]
            spent, heavy = imports(cmd[3:], root) if "bot.cli.main" in cmd else (0.0, [])
            print(
                f"  {name:<18} {statistics.median(got) * 1000:>10.0f} {min(got) * 1000:>8.0f} "
                f"{spent:>11.0f}  {', '.join(heavy) or '-'}"
            )


if __name__ == "__main__":
    main()
