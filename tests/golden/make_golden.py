"""Write ``expected.json`` from the golden cases (only for an intended change of behaviour).

Usage: ``python -m tests.golden.make_golden [CASE ...]`` from the repository root (default: every case).
"""

from __future__ import annotations

import json
import sys

from tests.golden.cases import CASES, EXPECTED


def main(names: list[str]) -> None:
    expected = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    for name in names or list(CASES):
        print(f"running {name} ...", flush=True)
        expected[name] = CASES[name]()
    EXPECTED.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {EXPECTED}")


if __name__ == "__main__":
    main(sys.argv[1:])
