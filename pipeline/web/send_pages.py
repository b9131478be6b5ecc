"""From approved to sent: the confirmation page, send now, a send time, pause, resume.

    GET  /editor/mailings/<id>/send     what the send does (lists by title, segment, how
                                        many recipients now, send time, embargo) and the
                                        forms: "Jetzt senden", "Zeitpunkt festlegen";
                                        "Anhalten" while sending, "Fortsetzen" when paused
    POST /editor/mailings/<id>/send     choice=now | later (when: datetime-local in the
                                        organisation's zone), confirm=yes
    POST /editor/mailings/<id>/pause    reason, confirm=yes
    POST /editor/mailings/<id>/resume   confirm=yes

No request sends a message: "Jetzt senden" and "Fortsetzen" hand the mailing to the
sending service (``Workflow.send_soon``, ``Workflow.hand_back``), whose next look sends
it within a minute; the mailing's page then shows the progress. Who may send what when
is the workflow's decision; a refusal shows this page again with the reason and what
was typed (422), a success redirects to the mailing (303).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from pipeline.errors import RundbriefError
from pipeline.mailings import Workflow
from pipeline.models import Mailing, MailingStatus
from pipeline.web import auth, csrf, refusals
from pipeline.web.context import deps
from pipeline.web.i18n import ui as _
from pipeline.web.sending import list_titles

bp = Blueprint("send_pages", __name__, url_prefix="/editor")
auth.require_login(bp)
csrf.protect(bp)

S = MailingStatus
# The statuses in which the page offers "Jetzt senden" and "Zeitpunkt festlegen".
_DECIDABLE = (S.DRAFT, S.APPROVED, S.SCHEDULED)


def flow() -> Workflow:
    d = deps()
    return Workflow(d.settings, d.store, d.clock, transport_factory=d.transport_factory)


@bp.get("/mailings/<int:mailing_id>/send")
def confirm(mailing_id: int) -> str:
    return _page(_mailing_or_404(mailing_id))


@bp.post("/mailings/<int:mailing_id>/send")
def send(mailing_id: int) -> Response | tuple[str, int]:
    found = _mailing_or_404(mailing_id)
    form = request.form
    typed = {"choice": form.get("choice", ""), "when": form.get("when", "").strip()}
    if form.get("confirm") != "yes":
        return _refused(found, typed, _("Bitte bestätigen Sie den Versand mit dem Häkchen."))
    try:
        if typed["choice"] == "now":
            flow().send_soon(mailing_id, by=auth.acting())
            message = _(
                "Das Mailing ist an den Versanddienst übergeben und wird innerhalb "
                "einer Minute versendet."
            )
        elif typed["choice"] == "later":
            when = _parse_local(typed["when"])
            if when is None:
                return _refused(found, typed, _("Bitte geben Sie Datum und Uhrzeit an."))
            scheduled = flow().schedule(mailing_id, when, by=auth.acting())
            message = _(
                "Das Mailing ist freigegeben und wird am {when} versendet.",
                when=_local(scheduled.send_at),
            )
        else:
            return _refused(
                found, typed, _("Bitte wählen Sie „Jetzt senden“ oder einen Zeitpunkt.")
            )
    except RundbriefError as exc:
        return _refused(found, typed, _("Nicht versendet: {reason}", reason=_reason(exc)))
    flash(message, "success")
    return redirect(url_for("editor.mailing", mailing_id=mailing_id), code=303)


@bp.post("/mailings/<int:mailing_id>/pause")
def pause(mailing_id: int) -> Response | tuple[str, int]:
    found = _mailing_or_404(mailing_id)
    typed = {"reason": request.form.get("reason", "").strip()}
    if request.form.get("confirm") != "yes":
        return _refused(found, typed, _("Bitte bestätigen Sie das Anhalten mit dem Häkchen."))
    if not typed["reason"]:
        return _refused(found, typed, _("Bitte nennen Sie einen Grund für das Anhalten."))
    try:
        flow().pause(mailing_id, reason=typed["reason"], by=auth.acting())
    except RundbriefError as exc:
        return _refused(found, typed, _("Nicht angehalten: {reason}", reason=_reason(exc)))
    flash(
        _(
            "Der Versand ist angehalten. Wer schon eine Nachricht hat, behält sie; "
            "die übrigen bekommen sie erst nach „Fortsetzen“."
        ),
        "success",
    )
    return redirect(url_for("editor.mailing", mailing_id=mailing_id), code=303)


@bp.post("/mailings/<int:mailing_id>/resume")
def resume(mailing_id: int) -> Response | tuple[str, int]:
    found = _mailing_or_404(mailing_id)
    if request.form.get("confirm") != "yes":
        return _refused(found, {}, _("Bitte bestätigen Sie das Fortsetzen mit dem Häkchen."))
    try:
        flow().hand_back(mailing_id, by=auth.acting())
    except RundbriefError as exc:
        return _refused(found, {}, _("Nicht fortgesetzt: {reason}", reason=_reason(exc)))
    flash(
        _(
            "Der Versand geht weiter: der Versanddienst übernimmt ihn innerhalb einer Minute; "
            "niemand bekommt das Mailing zweimal."
        ),
        "success",
    )
    return redirect(url_for("editor.mailing", mailing_id=mailing_id), code=303)


# --- helpers ---------------------------------------------------------------------------


def _page(found: Mailing, typed: Mapping[str, str] | None = None, error: str | None = None) -> str:
    view = flow().overview(found.id)
    now = deps().clock.now()
    return render_template(
        "editor/send.html",
        mailing=found,
        list_titles=list_titles(found),
        recipients=view.recipients,
        decidable=found.status in _DECIDABLE,
        typed=typed or {},
        error=error,
        when_value=(typed or {}).get("when") or _local_input(found.send_at, now),
        min_value=now.astimezone(deps().settings.organisation.tz).strftime("%Y-%m-%dT%H:%M"),
        archived=flow().find_published(found.id) is not None,
    )


def _refused(found: Mailing, typed: Mapping[str, str], message: str) -> tuple[str, int]:
    return _page(found, typed, message), 422


def _reason(exc: RundbriefError) -> str:
    return refusals.reason(exc, deps().settings.organisation.tz)


def _mailing_or_404(mailing_id: int) -> Mailing:
    found = flow().find(mailing_id)
    if found is None:
        abort(404)
    return found


def _local(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(deps().settings.organisation.tz).strftime("%d.%m.%Y, %H:%M")


def _local_input(value: datetime | None, now: datetime) -> str:
    """A ``datetime-local`` value in the organisation's zone (a past time: empty)."""
    if value is None or value <= now:
        return ""
    return value.astimezone(deps().settings.organisation.tz).strftime("%Y-%m-%dT%H:%M")


def _parse_local(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=deps().settings.organisation.tz)
    return parsed


def register(app: Flask) -> None:
    app.register_blueprint(bp)
