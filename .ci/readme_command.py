"""Print one of the README's two set-up commands: `course` or `test`.

The README marks each with an HTML comment (`<!-- command: test -->`) on the line
before its fenced block; CI runs what this prints, so README and CI cannot drift.
"""

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def command(kind: str, text: str | None = None) -> str:
    text = README.read_text(encoding="utf-8") if text is None else text
    pattern = rf"<!-- command: {re.escape(kind)} -->\s*```(?:bash|sh|console)?\n(.*?)\n```"
    found = re.findall(pattern, text, flags=re.S)
    if len(found) != 1:
        raise SystemExit(
            f"README.md must hold exactly one '<!-- command: {kind} -->' block, found {len(found)}"
        )
    return found[0].strip()


if __name__ == "__main__":
    print(command(sys.argv[1] if len(sys.argv) > 1 else "test"))
