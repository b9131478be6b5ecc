from __future__ import annotations

import pytest

from tests.schedule.support import SECRET


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNDBRIEF_SECRET", SECRET)
