"""The README and docs/ stand alone: every link they make is to a file of this repository that
exists."""

import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_link_of_the_docs_is_to_a_file_here() -> None:
    pages = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").rglob("*.md"))]
    wrong = []
    for page in pages:
        for target in _LINK.findall(page.read_text()):
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.is_relative_to(REPOSITORY) or not path.exists():
                wrong.append(f"{page.relative_to(REPOSITORY)}: {target}")
    assert wrong == []
