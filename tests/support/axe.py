"""axe-core in the browser tests: inject Deque's rules engine into a page and assert that WCAG 2.2
AA and best-practice rules find nothing (scripts/services/axe-core.sh installs the engine)."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.support.paths import REPO
from tests.support.services import require_service

AXE_SCRIPT = REPO / "scripts" / "services" / "axe-core.sh"
# Everything WCAG 2.0-2.2 A and AA asks, plus Deque's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@cache
def _axe_file() -> Path:
    out = subprocess.run(["bash", str(AXE_SCRIPT), "path"], capture_output=True, text=True)
    return Path(out.stdout.strip())


def axe_violations(page: Page, context: str | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (``context``: a CSS selector to check)."""
    source = _axe_file()
    require_service("axe-core", source.is_file(), f"bash {AXE_SCRIPT.relative_to(REPO)} start")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluate() runs outside the page's Content Security Policy, which forbids inline scripts
        page.evaluate(source.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async ([context, tags]) => await axe.run(context || document,"
        " {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        [context, AXE_TAGS],
    )
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and node: rule, impact, target, what to fix."""
    lines = []
    for violation in violations:
        for node in violation["nodes"][:5]:
            lines.append(
                f"{violation['id']} ({violation['impact']}) {node['target']}: "
                f"{node.get('failureSummary', '').splitlines()[-1:]}"
            )
    return "\n".join(lines)


def assert_accessible(page: Page, context: str | None = None) -> None:
    """Fail with a readable list when axe-core finds any WCAG 2.2 AA or best-practice issue."""
    violations = axe_violations(page, context)
    assert not violations, f"axe-core on {page.url}:\n{describe(violations)}"
