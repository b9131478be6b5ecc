"""The built wheel works with no checkout in sight.

Builds the wheel from a copy of the sources, installs it into a fresh venv, and there,
from a folder outside the checkout, runs what a new user runs first: ``rundbrief init``,
``check``, ``collect``, ``subscribers import``, ``compose newsletter``, ``preview``,
``approve`` and ``send`` (Maildir). Offline: the build uses this venv's setuptools (no
build isolation) and the new venv reaches this venv's dependencies through a ``.pth``
file, while ``pipeline`` itself comes only from the wheel.
"""

from __future__ import annotations

import email
import json
import mailbox
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.message import Message
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

# What the build reads: the package, the templates it maps into it, the metadata.
BUILD_INPUTS = ("pyproject.toml", "README.md", "pipeline", "templates")


def run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        source = REPO / name
        if source.is_dir():
            # symlinks=True: pipeline/_templates stays the link to ../templates it is
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(source, src / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(source, src / name)
    out = tmp_path_factory.mktemp("wheels")
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out), str(src)],
        cwd=src,
    )  # fmt: skip
    (built,) = out.glob("rundbrief-*.whl")
    return built


def test_the_wheel_holds_templates_locales_web_files_and_the_site_skeleton(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        *(f"pipeline/_templates/{p.relative_to(REPO / 'templates').as_posix()}"
          for p in (REPO / "templates").rglob("*") if p.is_file()),
        *(p.relative_to(REPO).as_posix()
          for folder in ("pipeline/web/templates", "pipeline/web/static", "pipeline/cli/skeleton")
          for p in (REPO / folder).rglob("*") if p.is_file()),
    }  # fmt: skip
    assert "pipeline/_templates/locale/de.toml" in expected
    assert "pipeline/_templates/locale/en.toml" in expected
    assert sorted(expected - names) == []


def mail_parts(message: Message) -> list[str]:
    return [part.get_content_type() for part in message.walk() if not part.is_multipart()]


def test_the_installed_wheel_inits_a_site_and_runs_it(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    # The dependencies come from this venv (offline); the checkout is not on the path.
    new_site = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            cwd=tmp_path).strip()
    )  # fmt: skip
    (new_site / "dev-venv-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        cwd=tmp_path)  # fmt: skip

    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNDBRIEF_", "PYTHON"))}
    rundbrief = str(venv / "bin" / "rundbrief")

    def rb(*args: str) -> str:
        return run([rundbrief, *args], cwd=work, env=env)

    where = run(
        [str(python), "-c",
         "import pipeline, pipeline.render as r; print(pipeline.__file__); "
         "print(r.BUNDLED_TEMPLATES)"],
        cwd=work, env=env,
    ).split()  # fmt: skip
    assert all(Path(p).is_relative_to(venv) for p in where), where
    assert not any(Path(p).is_relative_to(REPO) for p in where), where

    rb("init", "site")
    site = work / "site"
    for line in (site / "deploy/rundbrief.env").read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name] = value
    unit = (site / "deploy/rundbrief.service").read_text()
    assert f"ExecStart={rundbrief} -v run" in unit

    config = ["--config", "site/config.toml"]
    assert "configuration valid (1 feeds, 2 lists, transport maildir" in rb(*config, "check")
    assert json.loads(rb(*config, "collect", "--json"))["new"] == 3
    rb(*config, "subscribers", "import", "site/subscribers/members.csv", "--list", "members")
    rb(*config, "compose", "newsletter")
    (mailing,) = json.loads(rb(*config, "mailings", "--json"))["mailings"]
    number = str(mailing["id"])
    rb(*config, "preview", number, "--out", "preview")
    rb(*config, "approve", number)
    rb(*config, "send", number)

    preview = {p.name: p for p in (work / "preview").iterdir()}
    assert set(preview) == {"preview.html", "preview.txt", "preview.eml"}
    assert "Jahrestreffen in Musterstadt" in preview["preview.html"].read_text()
    messages = [
        email.message_from_bytes(m.as_bytes()) for m in mailbox.Maildir(site / "var/outbox")
    ]
    assert len(messages) == 3
    for message in messages:
        assert message.get_content_type() == "multipart/alternative"
        assert mail_parts(message) == ["text/plain", "text/html"]
        assert "Musterstraße 1" in message.get_payload()[1].get_payload(decode=True).decode()
    assert sorted(m["To"].split("<")[-1].rstrip(">") for m in messages) == sorted(
        line.split(",")[0]
        for line in (site / "subscribers/members.csv").read_text().splitlines()[1:]
    )

    # The web app finds its page templates and style sheet in the installed package.
    page = run(
        [str(python), "-c",
         "from pipeline.config import load_settings\n"
         "from pipeline.store import Store\n"
         "from pipeline.web import create_app\n"
         "s = load_settings('site/config.toml')\n"
         "c = create_app(s, Store.open(s.database_url())).test_client()\n"
         "print(c.get('/archive').status_code, c.get('/assets/rundbrief.css').status_code)"],
        cwd=work, env=env,
    )  # fmt: skip
    assert page.split() == ["200", "200"]
