"""The ```python blocks of docs/*.md run, in order, offline (```py blocks are illustrations)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = sorted(p.name for p in DOCS.glob("*.md") if BLOCK.search(p.read_text()))


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_of_the_page_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.replace('-', '_').removesuffix('.md')}"}
    for number, block in enumerate(BLOCK.findall((DOCS / page).read_text()), start=1):
        code = compile(block, f"{page} block {number}", "exec", dont_inherit=True)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, namespace)


def test_every_page_the_quickstart_links_to_exists() -> None:
    for link in re.findall(r"\]\(([\w-]+\.md)\)", (DOCS / "quickstart.md").read_text()):
        assert (DOCS / link).exists(), link
