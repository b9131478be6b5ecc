"""POST /api/v1/subscribers/import?welcome=true: the new people get the welcome mail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store import system_mail as db
from tests.api.conftest import ANNA, Call
from tests.support.settings import BASE, make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    lists = [{**m, "welcome": "welcome"} if m["name"] == "press" else m for m in BASE["lists"]]
    return make_settings(tmp_path, lists=lists)


CSV = "email,first_name,last_name,salutation\nj.koehler@tageszeitung-ost.example,Jana,Köhler,Frau\n"


def test_an_import_with_welcome_through_the_api(call: Call, store: Store) -> None:
    def post(query: str) -> Any:
        return call(
            "POST",
            f"/subscribers/import?{query}&filename=presse.csv",
            as_=ANNA,
            data=CSV.encode(),
            headers={"Content-Type": "text/csv"},
        )

    refused = post("list=members&welcome=true")
    assert refused.status_code == 422
    assert "'members' names no welcome template" in refused.get_json()["error"]["message"]
    done = post("list=press&welcome=true")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["data"]["welcomed"] == 1
    again = post("list=press&welcome=true")
    assert again.get_json()["data"]["welcomed"] == 0
    (mail,) = [m for m in db.list_mail(store) if m.kind == "welcome"]
    assert mail.recipient == "j.koehler@tageszeitung-ost.example"
