"""`uzibot mappings init DIR`: an editable copy of the bundled mappings for one site."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.mappings_source import init_mappings


def mappings_init(directory: str, out: TextIO) -> int:
    """Copy the bundled mappings into `directory`; 2 when it exists and is not empty."""
    target = Path(directory)
    try:
        copied = init_mappings(target)
    except FileExistsError as exc:
        print(f"uzibot mappings init: {exc}", file=sys.stderr)
        return 2
    print(f"copied {len(copied)} files into {target}:", file=out)
    for name in copied:
        print(f"  {name}", file=out)
    print(
        f"\nEdit what your site needs and delete the files you leave as they are (those then "
        f"come from the bundled set, and follow uzibot's updates). Then set "
        f"MAPPINGS_DIR={target.resolve()} and run `uzibot check`.",
        file=out,
    )
    return 0
