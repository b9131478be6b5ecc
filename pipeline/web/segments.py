"""The editor's page "Segmente" and the segment of a draft on its mailing page.

    GET  /editor/segments                      the segments of config.toml (read-only) and
                                               the saved ones, each counted per list; the
                                               form to save a new one
    POST /editor/segments                      ``do=preview``: count what was typed (nothing
                                               saved); ``do=save``: save it
    POST /editor/segments/<name>/delete        delete a saved one (with the confirmation box)
    POST /editor/mailings/<id>/segment         ``do=preview``: how many people the chosen
                                               segment reaches; ``do=save``: use it

A refused form is shown again with what was typed and the reason, a condition that
cannot be read with a mark under the character where it went wrong (no JavaScript).
The rules are the workflow's (``pipeline.mailings.Segments``, ``Workflow.edit``); this
module only translates forms into its calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from pipeline.access import Action, allowed
from pipeline.errors import RundbriefError, SegmentRefused
from pipeline.mailings import SegmentCount, Segments, Workflow, lifecycle
from pipeline.models import Mailing
from pipeline.web import auth, csrf, refusals
from pipeline.web.context import deps

bp = Blueprint("segments", __name__, url_prefix="/editor")
# Order matters: an anonymous POST is answered "log in" before its token is looked at.
auth.require_login(bp)
csrf.protect(bp)

NONE = ""  # the choice "no segment" on the mailing page
OWN = "=where"  # the mailing has a condition of its own (no name): keep it


def segments() -> Segments:
    d = deps()
    return Segments(d.settings, d.store, d.clock)


@dataclass(frozen=True)
class Mark:
    """Where a condition went wrong: the line of the text and a caret under the column."""

    line: str
    caret: str
    column: int  # over the whole text, as the parser counts
    line_number: int  # 1-based
    line_column: int  # 1-based, within the line

    def where(self) -> str:
        if self.line_number == 1:
            return f"an Zeichen {self.column}"
        return f"in Zeile {self.line_number} an Zeichen {self.line_column}"


def mark(expression: str, column: int | None) -> Mark | None:
    """The line holding character ``column`` (1-based over the whole text) and a caret
    line pointing at it, for a ``<pre>`` under the form."""
    if column is None:
        return None
    index = max(0, min(column - 1, len(expression)))
    start = expression.rfind("\n", 0, index) + 1
    end = expression.find("\n", index)
    line = expression[start : end if end != -1 else len(expression)]
    return Mark(
        line=line,
        caret=" " * (index - start) + "^",
        column=column,
        line_number=expression.count("\n", 0, index) + 1,
        line_column=index - start + 1,
    )


# --- the page "Segmente" ---------------------------------------------------------------


@bp.get("/segments")
def index() -> str:
    return _page()


@bp.post("/segments")
def save() -> Response | tuple[str, int]:
    name = request.form.get("name", "").strip()
    expression = request.form.get("expression", "").replace("\r\n", "\n").strip()
    replace = request.form.get("replace") == "yes"
    form = {"name": name, "expression": expression, "replace": replace}
    flow = segments()
    if request.form.get("do") == "preview":
        try:
            counted = flow.count(expression, by=auth.acting())
        except RundbriefError as exc:
            return _refused(form, exc)
        return _page(form=form, preview=counted), 200
    try:
        saved = flow.save(name, expression, by=auth.acting(), replace=replace)
    except RundbriefError as exc:
        return _refused(form, exc)
    verb = "geändert" if replace else "gespeichert"
    flash(
        f"Das Segment „{saved.name}“ ist {verb}; es erreicht jetzt {saved.count.total} "
        f"{_people(saved.count.total)}.",
        "success",
    )
    return redirect(url_for("segments.index"), code=303)


@bp.post("/segments/<name>/delete")
def delete(name: str) -> Response:
    back = redirect(url_for("segments.index"), code=303)
    if request.form.get("confirm") != "yes":
        flash(f"Bitte bestätigen Sie das Löschen von „{name}“ mit dem Häkchen.", "error")
        return back
    try:
        segments().delete(name, by=auth.acting())
    except RundbriefError as exc:
        flash(f"Nicht gelöscht: {refusals.reason(exc)}", "error")
        return back
    flash(
        f"Das Segment „{name}“ ist gelöscht. Mailings, die es schon nutzen, behalten ihre "
        "Bedingung.",
        "success",
    )
    return back


def _refused(form: dict[str, Any], exc: RundbriefError) -> tuple[str, int]:
    """The page again with what was typed and why it was refused (422)."""
    field = getattr(exc, "field", "")
    where = None
    if isinstance(exc, SegmentRefused) and exc.field == "expression":
        where = mark(form["expression"], exc.column)
        at = f" {where.where()}" if where is not None else ""
        message = f"Die Bedingung ist{at} nicht lesbar: {exc.reason}"
    else:
        message = refusals.reason(exc)
    return _page(form=form, error=message, error_field=field, mark=where), 422


def _page(
    *,
    form: dict[str, Any] | None = None,
    preview: SegmentCount | None = None,
    error: str | None = None,
    error_field: str = "",
    mark: Mark | None = None,
) -> str:
    by = auth.acting()
    found = segments().list(by=by)
    return render_template(
        "editor/segments.html",
        configured=[s for s in found if s.source == "config"],
        saved=[s for s in found if s.source == "saved"],
        lists=[m.name for m in deps().settings.lists],
        form=form or {"name": "", "expression": "", "replace": False},
        preview=preview,
        error=error,
        error_field=error_field,
        mark=mark,
        may_change=allowed(by, Action.COMPOSE),
    )


def _people(n: int) -> str:
    return "Person" if n == 1 else "Personen"


# --- the segment of a draft ------------------------------------------------------------


def choice(mailing: Mailing) -> dict[str, Any]:
    """The choices for the mailing page's segment form (a Jinja global): no segment,
    those of config.toml, the saved ones; a condition of the mailing's own stays as it is."""
    named = segments().names(by=auth.acting())
    options: list[tuple[str, str]] = [(NONE, "keins (alle auf den Listen)")]
    current = mailing.segment_name or NONE
    if mailing.segment_where and mailing.segment_name not in {n for n, _ in named}:
        # a condition of its own, or a saved segment deleted since: the draft keeps it
        label = f"{mailing.segment_name}: " if mailing.segment_name else "eigene Bedingung: "
        options.append((OWN, label + mailing.segment_where))
        current = OWN
    for name, source in named:
        origin = "config.toml" if source == "config" else "gespeichert"
        options.append((name, f"{name} ({origin})"))
    wanted = request.args.get("segment")
    values = {value for value, _ in options}
    return {
        "options": options,
        "selected": wanted if wanted in values else current,
        "editable": mailing.status in lifecycle.EDITABLE,
    }


@bp.post("/mailings/<int:mailing_id>/segment")
def mailing_segment(mailing_id: int) -> Response:
    d = deps()
    flow = Workflow(d.settings, d.store, d.clock)
    back = url_for("editor.mailing", mailing_id=mailing_id)
    try:
        found = flow.get(mailing_id)
    except RundbriefError:
        flash(f"Das Mailing {mailing_id} gibt es nicht.", "error")
        return redirect(url_for("editor.mailings"), code=303)
    chosen = request.form.get("segment", NONE)
    if chosen == OWN:
        flash("Das Segment ist unverändert (die eigene Bedingung bleibt).", "info")
        return redirect(back, code=303)
    name = chosen or None
    if request.form.get("do") == "preview":
        try:
            counted = segments().reach(name, by=auth.acting(), lists=found.lists)
        except RundbriefError as exc:
            flash(f"Nicht gezählt: {refusals.reason(exc)}", "error")
            return redirect(back, code=303)
        label = f"Mit dem Segment „{name}“" if name else "Ohne Segment"
        flash(
            f"{label} erreicht das Mailing jetzt {counted.total} {_people(counted.total)} "
            f"(Listen: {', '.join(found.lists) or '–'}). Noch nicht übernommen.",
            "info",
        )
        return redirect(url_for("editor.mailing", mailing_id=mailing_id, segment=chosen), code=303)
    was = found.status
    try:
        flow.edit(mailing_id, by=auth.acting(), segment=name, version=_version())
    except RundbriefError as exc:
        flash(f"Nicht gespeichert: {refusals.reason(exc, d.settings.organisation.tz)}", "error")
        return redirect(back, code=303)
    message = (
        f"Das Mailing geht jetzt an das Segment „{name}“."
        if name
        else ("Das Mailing geht jetzt an alle auf seinen Listen.")
    )
    if was != "draft":
        message += " Es ist wieder ein Entwurf und muss neu freigegeben werden."
    flash(message, "success")
    return redirect(back, code=303)


def _version() -> datetime | None:
    """The mailing's version the form was made from (the workflow refuses an edit of a
    mailing someone changed since); None when the form carries none."""
    try:
        return datetime.fromisoformat(request.form.get("version", ""))
    except ValueError:
        return None


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["segment_choice"] = choice
