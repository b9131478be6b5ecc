"""Every mail's HTML through the Nu Html Checker (vnu.jar, installed by ``make test``
from package-lock.json, run with the system's Java): no errors but the few that Outlook
needs and no other client minds."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.render import RenderedMailing

REPO = Path(__file__).resolve().parents[2]
VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# What Outlook for Windows (Word's renderer) needs and HTML does not define.
ALLOWED = [
    # mso-table-lspace, mso-padding-alt, mso-hide: Outlook's own CSS properties
    re.compile(r"^CSS: “mso-[a-z-]+”: Property “mso-[a-z-]+” doesn't exist\.$"),
    # the VML namespaces on <html> (Outlook's rounded buttons and backgrounds)
    re.compile(r"^Attribute “xmlns:[vo]” not allowed here\.$"),
]

pytestmark = [
    pytest.mark.skipif(shutil.which("java") is None, reason="java is missing (make test)"),
    pytest.mark.skipif(not VNU.exists(), reason="vnu.jar is missing (make test-tools)"),
]


def test_every_mail_is_valid_html(corpus: dict[str, RenderedMailing], tmp_path: Path) -> None:
    for name, rendered in corpus.items():
        (tmp_path / f"{name}.html").write_text(rendered.html, encoding="utf-8")
    files = sorted(str(p) for p in tmp_path.glob("*.html"))
    run = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(run.stderr)
    errors = [m for m in report["messages"] if m["type"] in ("error", "non-document-error")]
    assert errors or run.returncode == 0
    left = [
        f"{Path(m.get('url', '')).name}: {m['message']} [{m.get('extract', '')[:80]}]"
        for m in errors
        if not any(rule.match(m["message"]) for rule in ALLOWED)
    ]
    assert len(files) == len(corpus) >= 8  # newsletter, press, confirmation, welcome × de, en
    assert left == []
