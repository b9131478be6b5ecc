"""Run the real ``rundbrief`` entry point in-process (a subprocess costs seconds of
imports) and capture what it printed and its exit status."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import main


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Run:
    capsys.readouterr()
    try:
        main(["--config", str(config), *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        # The CLI logs to the stderr it found, which pytest replaces after each test.
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "_rundbrief", False)]:
            root.removeHandler(handler)
    out, err = capsys.readouterr()
    return Run(code, out, err)
