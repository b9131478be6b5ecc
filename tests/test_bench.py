"""Every benchmark script still runs, on tiny sizes (no figure is asserted: timing is
the scripts' job, not the tests'). A workflow change once broke two of them unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMTP_SINK = Path("/usr/sbin/smtp-sink")

RUNS = {
    "render": ["--renders", "1", "--recipients", "20"],
    "collect": ["--feeds", "2", "--items", "5"],
    "import": ["--rows", "50"],
    "startup": ["--runs", "1", "--feeds", "2", "--items", "3", "--no-r2e"],
    "send": ["--recipients", "40"],
    "segments": ["--rows", "50", "--repeat", "1"],
}


@pytest.mark.parametrize("name", list(RUNS))
def test_the_benchmark_runs(name: str, tmp_path: Path) -> None:
    if name == "send" and not os.access(SMTP_SINK, os.X_OK):
        pytest.skip("bench/send.py needs Postfix's smtp-sink")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *RUNS[name]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
