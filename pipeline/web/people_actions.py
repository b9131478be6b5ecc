"""What an editor does to subscribers from the browser: unsubscribe from a list, put an
address on the suppression list, erase a person (admins), and import a CSV file with the
same line-by-line report as ``rundbrief subscribers import``.

Every action goes through ``pipeline.subscribers.Subscribers``: the role table is asked
there and each change leaves one audit entry. A refusal by role is a 403 page that says
which role it needs; a missing confirmation changes nothing and says so.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from pipeline.access import Action, allowed
from pipeline.errors import ConfigError, PermissionDenied, RundbriefError
from pipeline.subscribers import Subscribers
from pipeline.web import auth, csrf, refusals
from pipeline.web.context import deps
from pipeline.web.i18n import ui as _

bp = Blueprint("people_actions", __name__, url_prefix="/editor")
auth.require_login(bp)
csrf.protect(bp)

# Report lines shown on the page after an import; the rest are counted (the CLI's
# --json report has every line).
REPORT_LINES = 500


def _people() -> Subscribers:
    d = deps()
    return Subscribers(d.settings, d.store, d.clock)


def _person_email(subscriber_id: int) -> str:
    record, _entries = _people().show(subscriber_id, by=auth.acting())
    if record is None:
        abort(404)
    return record.subscriber.email


def _back(subscriber_id: int) -> Response:
    return redirect(url_for("people.subscriber", subscriber_id=subscriber_id), code=303)


def _denied(exc: PermissionDenied) -> None:
    abort(403, description=refusals.reason(exc))


@bp.post("/subscribers/<int:subscriber_id>/unsubscribe")
def unsubscribe(subscriber_id: int) -> Response:
    email = _person_email(subscriber_id)
    list_name = request.form.get("list", "").strip()
    if request.form.get("confirm") != "yes":
        flash(
            _("Bitte bestätigen Sie die Abmeldung mit dem Häkchen; nichts wurde geändert."), "error"
        )
        return _back(subscriber_id)
    try:
        outcome = _people().unsubscribe(email, [list_name] if list_name else None, by=auth.acting())
    except PermissionDenied as exc:
        _denied(exc)
        raise
    except (RundbriefError, ConfigError) as exc:
        flash(_("Nicht abgemeldet: {reason}", reason=refusals.reason(exc)), "error")
        return _back(subscriber_id)
    if outcome.lists:
        flash(
            _(
                "{email} ist abgemeldet von: {lists}.",
                email=email,
                lists=", ".join(_titles(outcome.lists)),
            ),
            "success",
        )
    else:
        flash(_("{email} war dort nicht (mehr) angemeldet.", email=email), "info")
    return _back(subscriber_id)


@bp.post("/subscribers/<int:subscriber_id>/suppress")
def suppress(subscriber_id: int) -> Response:
    email = _person_email(subscriber_id)
    if request.form.get("confirm") != "yes":
        flash(_("Bitte bestätigen Sie die Sperre mit dem Häkchen; nichts wurde geändert."), "error")
        return _back(subscriber_id)
    detail = request.form.get("detail", "").strip() or None
    try:
        added = _people().suppress(email, "manual", detail=detail, by=auth.acting())
    except PermissionDenied as exc:
        _denied(exc)
        raise
    except (RundbriefError, ConfigError) as exc:
        flash(_("Nicht gesperrt: {reason}", reason=refusals.reason(exc)), "error")
        return _back(subscriber_id)
    if added:
        flash(
            _("{email} ist gesperrt: an diese Adresse geht nichts mehr.", email=email),
            "success",
        )
    else:
        flash(_("{email} war schon gesperrt.", email=email), "info")
    return _back(subscriber_id)


@bp.post("/subscribers/<int:subscriber_id>/erase")
def erase(subscriber_id: int) -> Response:
    email = _person_email(subscriber_id)
    typed = request.form.get("confirm_email", "").strip()
    # Typing the address (not a checkbox): erasing cannot be undone.
    if typed.casefold() != email.casefold():
        flash(
            _(
                "Zum Löschen geben Sie bitte die Adresse {email} genau ein; nichts wurde gelöscht.",
                email=email,
            ),
            "error",
        )
        return _back(subscriber_id)
    try:
        report = _people().erase(email, by=auth.acting())
    except PermissionDenied as exc:
        _denied(exc)
        raise
    except (RundbriefError, ConfigError) as exc:
        flash(_("Nicht gelöscht: {reason}", reason=refusals.reason(exc)), "error")
        return _back(subscriber_id)
    flash(
        _(
            "Die Person ist gelöscht: {subscriptions} Abonnements, {deliveries} Zustellungen "
            "ohne Adresse; die Adresse bleibt nur als Prüfsumme gesperrt.",
            subscriptions=report.subscriptions,
            deliveries=report.deliveries_scrubbed,
        ),
        "success",
    )
    return _back(subscriber_id)


@bp.get("/subscribers/import")
def import_form() -> str:
    return _import_page()


@bp.post("/subscribers/import")
def import_csv() -> tuple[str, int] | str:
    by = auth.acting()
    list_name = request.form.get("list", "").strip()
    dry_run = request.form.get("dry_run") == "yes"
    welcome = request.form.get("welcome") == "yes"
    typed = {"list": list_name, "dry_run": dry_run, "welcome": welcome}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(typed, error=_("Bitte wählen Sie eine CSV-Datei.")), 422
    name = secure_filename(upload.filename) or "import.csv"
    if not allowed(by, Action.IMPORT):
        abort(403, description=_("Ihre Rolle erlaubt keinen Import."))
    with tempfile.TemporaryDirectory(prefix="rundbrief-import-") as folder:
        # kept under its own name: the report and the audit entry name the file
        path = Path(folder) / name
        upload.save(path)
        try:
            report = _people().import_csv(
                path, by=by, list_name=list_name or None, dry_run=dry_run, welcome=welcome
            )
        except (RundbriefError, ConfigError) as exc:
            reason = refusals.reason(exc) if isinstance(exc, RundbriefError) else str(exc)
            return _import_page(typed, error=_("Nicht importiert: {reason}", reason=reason)), 422
        try:
            lines = _report_lines(report)
            page = _import_page(typed, report=report, lines=lines)
        finally:
            report.close()
    return (page, 422) if not report.ok else page


def _report_lines(report: object) -> dict[str, dict[str, object]]:
    """The report's lines as the CLI prints them, at most ``REPORT_LINES`` of each kind."""
    kinds: dict[str, dict[str, object]] = {}
    for kind in ("errors", "skipped", "notices"):
        spool = getattr(report, kind)
        shown: list[object] = []
        for entry in spool:
            if len(shown) == REPORT_LINES:
                break
            shown.append(entry)
        kinds[kind] = {"shown": shown, "more": max(0, len(spool) - len(shown))}
    return kinds


def _import_page(
    typed: dict[str, object] | None = None,
    *,
    error: str | None = None,
    report: object | None = None,
    lines: dict[str, dict[str, object]] | None = None,
) -> str:
    d = deps()
    return render_template(
        "editor/people_import.html",
        lists=d.settings.lists,
        typed=typed or {"list": "", "dry_run": True, "welcome": False},
        error=error,
        report=report,
        lines=lines,
    )


def _titles(names: tuple[str, ...] | list[str]) -> list[str]:
    titles = {m.name: m.title or m.name for m in deps().settings.lists}
    return [titles.get(n, n) for n in names]


def register(app: Flask) -> None:
    app.register_blueprint(bp)
