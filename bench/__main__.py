"""Run every benchmark (``python -m bench``) or the named ones (``python -m bench expressions``,
``python -m bench rules``, ``python -m bench flows``, ``python -m bench imports``): each
``bench/NAME_bench.py`` with a ``main()`` is one."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    here = Path(__file__).parent
    names = argv or sorted(p.stem.removesuffix("_bench") for p in here.glob("*_bench.py"))
    for name in names:
        module = importlib.import_module(f"bench.{name}_bench")
        print(f"== {name} ==", flush=True)
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
