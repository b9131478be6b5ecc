"""Editors' pages: list mailings, preview a draft, edit it, send a test copy, approve.

    GET  /editor/mailings                          mailings with their status
    GET  /editor/mailings/<id>[?lang=de]           preview at 600 px and 375 px, text part,
                                                   forms for everything below
    GET  /editor/mailings/<id>/render/<lang>       the stored render (sample recipient),
                                                   served under a no-script policy
    POST /editor/mailings/<id>/content             subject, preheader, intro (Markdown), send
                                                   time, embargo (press: the Sperrfrist)
    POST /editor/mailings/<id>/items               drop and reorder items
    POST /editor/mailings/<id>/rerender            render the draft again
    POST /editor/mailings/<id>/test                a test copy to an editor's address, as
                                                   the sample person or a recipient
    POST /editor/mailings/<id>/approve             approve (renders and checks first)
    POST /editor/mailings/<id>/cancel              cancel
    POST /editor/mailings/<id>/followup            a follow-up of a sent press release
                                                   (kind, text); a refusal shows the
                                                   page again with what was typed
    POST /editor/mailings/<id>/files[/<name>/remove]  the press kit (``kit_editor``)

The page of a mailing that has deliveries shows its distribution record
(``pipeline.web.record``, ``?protokoll_ab=`` pages on; its CSV download lives there).

Every request needs a logged-in editor and every POST the session's CSRF token. Every
POST answers with a redirect to the mailing (post/redirect/get) and a message. Forms
that change content carry the mailing's version (``updated_at``): if someone else saved
in between, nothing is overwritten. Every operation and rule lives in the workflow
layer (``pipeline.mailings``); this module only translates forms into its calls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, tzinfo

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from pipeline import audit
from pipeline.errors import RundbriefError
from pipeline.mailings import MailingOverview, Workflow, lifecycle, reorder
from pipeline.models import Item, Mailing, MailingKind, MailingStatus, RenderedMailing
from pipeline.web import auth, csrf, kept_forms, mailview, once, record, refusals
from pipeline.web.context import deps
from pipeline.web.sending import sending_context

log = logging.getLogger(__name__)

bp = Blueprint("editor", __name__, url_prefix="/editor")
# Order matters: an anonymous POST is answered "log in" before its token is looked at.
auth.require_login(bp)
csrf.protect(bp)

STATUS_LABELS = {
    "draft": "Entwurf",
    "approved": "Freigegeben",
    "scheduled": "Geplant",
    "sending": "Wird versendet",
    "paused": "Angehalten",
    "sent": "Versendet",
    "cancelled": "Abgesagt",
}
KIND_LABELS = {"newsletter": "Newsletter", "press": "Pressemitteilung"}
ITEM_KIND_LABELS = {
    "article": "Artikel",
    "event_report": "Veranstaltungsbericht",
    "press_release": "Pressemitteilung",
}
DELIVERY_LABELS = {
    "sent": "zugestellt",
    "queued": "wartend",
    "sending": "in Arbeit",
    "retry": "erneuter Versuch geplant",
    "failed": "fehlgeschlagen",
    "suppressed": "gesperrt (abgemeldet, unzustellbar)",
}
FOLLOW_KIND_LABELS = {
    "correction": "Berichtigung",
    "update": "Aktualisierung",
    "lift": "Sperrfrist aufheben",
    "withdraw": "Rückzug",
}
BOUNCE_LABELS = {"hard": "unzustellbar (dauerhaft)", "soft": "unzustellbar (vorübergehend)"}


def flow() -> Workflow:
    """The workflow layer for this request."""
    d = deps()
    return Workflow(d.settings, d.store, d.clock, transport_factory=d.transport_factory)


# --- pages -----------------------------------------------------------------------------


@bp.get("/mailings")
def mailings() -> str:
    wanted = request.args.get("status") or None
    if wanted is not None and wanted not in STATUS_LABELS:
        abort(400, description=f"Unbekannter Status: {wanted}")
    found = flow().list_mailings(status=wanted)
    return render_template("editor/mailings.html", mailings=found, wanted=wanted)


@bp.get("/mailings/<int:mailing_id>")
def mailing(mailing_id: int) -> str:
    found = _mailing_or_404(mailing_id)
    # What was typed when the session had ended, back in its form (not saved).
    kept = kept_forms.take(auth.current_editor())
    if kept is not None and kept.endpoint == "editor.save_content":
        return _mailing_page(found, content_form=kept.fields, content_kept=True)
    if kept is not None and kept.endpoint == "editor.compose_followup":
        return _mailing_page(found, followup_form=kept.fields)
    return _mailing_page(found)


def _mailing_page(
    found: Mailing,
    followup_form: Mapping[str, str] | None = None,
    content_form: Mapping[str, str] | None = None,
    content_kept: bool = False,
) -> str:
    """The mailing's page; ``followup_form``: what was typed in the follow-up form that
    was refused (shown again, nothing lost)."""
    language = _language(found, request.args.get("lang"))
    rendered, render_error = _rendered(found, language)
    text = ""
    if rendered is not None:
        values = mailview.sample_values(deps().settings, found, language)
        text = mailview.fill(rendered, values)[1]
    view = flow().overview(found.id)
    return render_template(
        "editor/mailing.html",
        mailing=found,
        content_form=content_form,
        content_kept=content_kept,
        delivery=_delivery(view),
        recipients=view.recipients,
        unknown_attributes=view.unknown_attributes,
        started=view.started,
        language=language,
        rendered=rendered,
        render_error=render_error,
        text=text,
        items=_items(found),
        test_addresses=test_addresses(),
        test_people=flow().test_people(found.id) if test_addresses() else [],
        editable=found.status in lifecycle.EDITABLE,
        cancellable=found.status in lifecycle.CANCELLABLE,
        approvable=lifecycle.allowed(found.status, MailingStatus.APPROVED),
        send_at_local=_local_input(found.send_at),
        embargo_local=_local_input(found.embargo_at),
        audit_entries=audit.entries(deps().store, mailing=found.id),
        record=record.section(found.id, request.args.get("protokoll_ab")),
        follow_ups=flow().follow_ups(found.id) if found.kind == "press" else [],
        original=flow().find(found.follows_id) if found.follows_id is not None else None,
        can_follow_up=_can_follow_up(found),
        followup_form=followup_form or {},
        follow_kinds=FOLLOW_KIND_LABELS,
        kit_files=flow().files(found.id) if found.kind == MailingKind.PRESS else [],
        **sending_context(found),
    )


@bp.get("/mailings/<int:mailing_id>/render/<language>")
def render_html(mailing_id: int, language: str) -> Response:
    found = _mailing_or_404(mailing_id)
    language = _language(found, language)
    rendered, error = _rendered(found, language)
    if rendered is None:
        abort(404, description=error or "Für diese Sprache gibt es noch keine Darstellung.")
    values = mailview.sample_values(deps().settings, found, language)
    return mailview.mail_response(mailview.fill(rendered, values)[0])


# --- actions ---------------------------------------------------------------------------


@bp.post("/mailings/<int:mailing_id>/content")
def save_content(mailing_id: int) -> Response:
    stale = _mailing_or_404(mailing_id)
    if stale.status in lifecycle.EDITABLE and not _current_version(stale):
        if _same_content(stale, request.form):
            # The same form sent twice (a double click): the first save is what counts.
            return _back(stale, "Schon gespeichert: dieser Text ist bereits gespeichert.", "info")
        # Someone saved first: the page comes back with what was typed, the saved
        # text beside it, and the current version, so saving again is deliberate.
        page = _mailing_page(stale, content_form=request.form.to_dict())
        return Response(page, status=409, mimetype="text/html")
    found = _editable(mailing_id)
    form = request.form
    subject = form.get("subject", "").strip()
    if not subject:
        return _back(found, "Der Betreff darf nicht leer sein.", "error")
    changes: dict[str, object] = {
        "subject": subject,
        "intro_md": form.get("intro", "").replace("\r\n", "\n"),
        "preheader": form.get("preheader", "").strip(),
    }
    for name, key, label in (
        ("send_at", "send_at", "Der Versandzeitpunkt"),
        ("embargo", "embargo_at", "Die Sperrfrist"),
    ):
        if name not in form:
            continue
        try:
            when = _parse_local(form.get(name, ""))
        except ValueError:
            return _back(found, f"{label} ist kein gültiges Datum mit Uhrzeit.", "error")
        # Only a time that changed is checked (and must lie ahead): saving the subject
        # of a draft whose send time passed meanwhile is not refused for it.
        if when != getattr(found, key):
            changes[key] = when
    was = found.status
    try:
        flow().edit(mailing_id, by=auth.acting(), **changes)  # type: ignore[arg-type]
    except RundbriefError as exc:
        return _back(found, f"Nicht gespeichert: {refusals.reason(exc, _tz())}", "error")
    _log("edited", mailing_id)
    return _after_edit(mailing_id, was, "Betreff und Einleitung sind gespeichert.")


@bp.post("/mailings/<int:mailing_id>/items")
def save_items(mailing_id: int) -> Response:
    found = _editable(mailing_id)
    try:
        order = item_order(found.item_ids, request.form)
    except ValueError as exc:
        return _back(found, str(exc), "error")
    if not order:
        return _back(
            found,
            "Mindestens ein Beitrag muss bleiben. Wenn nichts gesendet werden soll, sagen Sie "
            "das Mailing ab.",
            "error",
        )
    if tuple(order) == found.item_ids:
        return _back(found, "Die Beiträge sind unverändert.", "info")
    was = found.status
    try:
        flow().edit(mailing_id, item_ids=order, by=auth.acting())
    except RundbriefError as exc:
        return _back(found, f"Nicht gespeichert: {refusals.reason(exc, _tz())}", "error")
    _log("items changed", mailing_id)
    return _after_edit(mailing_id, was, "Die Beiträge sind gespeichert.", _moved_row(request.form))


@bp.post("/mailings/<int:mailing_id>/rerender")
def rerender(mailing_id: int) -> Response:
    found = _mailing_or_404(mailing_id)
    if found.status != MailingStatus.DRAFT:
        return _back(found, "Nur Entwürfe werden neu dargestellt.", "error")
    error = _render(found)
    if error:
        return _back(found, error, "error")
    return _back(found, "Die Darstellung ist aktualisiert.", "success")


@bp.post("/mailings/<int:mailing_id>/test")
def send_test(mailing_id: int) -> Response:
    found = _mailing_or_404(mailing_id)
    if not once.first():
        return _back(found, once.notice(), "info")
    to = request.form.get("to", "").strip()
    person = request.form.get("person", "").strip() or None  # empty: the sample person
    try:
        # where it may go is the workflow's rule (test_recipients), as for the API
        result = flow().send_test_copy(mailing_id, to, person=person, by=auth.acting())
    except RundbriefError as exc:
        log.warning("test copy failed", extra={"mailing": mailing_id, "error": str(exc)})
        return _back(
            found, f"Die Testkopie wurde nicht versendet: {refusals.reason(exc, _tz())}", "error"
        )
    failed = [r for r in _results(result) if not getattr(r, "ok", True)]
    if failed:
        reason = getattr(failed[0], "error", None) or "unbekannter Fehler"
        return _back(found, f"Die Testkopie wurde nicht versendet: {reason}", "error")
    _log("test copy sent", mailing_id, to=result.recipient)
    return _back(found, f"Eine Testkopie ist an {result.recipient} unterwegs.", "success")


@bp.post("/mailings/<int:mailing_id>/approve")
def approve(mailing_id: int) -> Response:
    found = _mailing_or_404(mailing_id)
    if not once.first():
        return _back(found, once.notice(), "info")
    if not _current_version(found):
        return _back(found, _STALE, "error")
    try:
        approved = flow().approve(mailing_id, by=auth.acting())
    except RundbriefError as exc:
        return _back(found, f"Nicht freigegeben: {refusals.reason(exc, _tz())}", "error")
    _log("approved", mailing_id)
    if approved.status == MailingStatus.SCHEDULED and approved.send_at is not None:
        when = _local_input(approved.send_at).replace("T", " ")
        return _back(found, f"Das Mailing ist freigegeben und geht am {when} raus.", "success")
    return _back(found, "Das Mailing ist freigegeben.", "success")


@bp.post("/mailings/<int:mailing_id>/followup")
def compose_followup(mailing_id: int) -> Response | tuple[str, int]:
    found = _mailing_or_404(mailing_id)
    if not once.first():
        return _back(found, once.notice(), "info", "follow-ups")
    form = request.form
    typed = {
        "kind": form.get("kind", ""),
        "title": form.get("title", ""),
        "text": form.get("text", "").replace("\r\n", "\n"),
    }
    try:
        made = flow().compose_followup(
            mailing_id,
            typed["kind"],
            text_md=typed["text"] or None,
            title=typed["title"] or None,
            by=auth.acting(),
        )
    except RundbriefError as exc:
        # shown again with what was typed: a press officer's text is never lost
        flash(f"Kein Nachtrag angelegt: {refusals.reason(exc, _tz())}", "error")
        return _mailing_page(found, followup_form=typed), 422
    _log("follow-up composed", made.id, original=str(mailing_id))
    label = FOLLOW_KIND_LABELS.get(str(made.follow_kind), str(made.follow_kind))
    flash(
        f"{label} Nr. {made.id} ist als Entwurf angelegt. Eine zweite Person gibt sie frei.",
        "success",
    )
    return redirect(url_for("editor.mailing", mailing_id=made.id), code=303)


def _can_follow_up(found: Mailing) -> bool:
    """Whether the page offers the follow-up form (the workflow decides on submit)."""
    went_out = found.status in (MailingStatus.SENDING, MailingStatus.PAUSED, MailingStatus.SENT)
    return found.kind == "press" and found.follows_id is None and went_out


@bp.post("/mailings/<int:mailing_id>/cancel")
def cancel(mailing_id: int) -> Response:
    found = _mailing_or_404(mailing_id)
    if request.form.get("confirm") != "yes":
        return _back(found, "Bitte bestätigen Sie die Absage mit dem Häkchen.", "error")
    try:
        flow().cancel(mailing_id, by=auth.acting())
    except RundbriefError as exc:
        return _back(found, f"Nicht abgesagt: {refusals.reason(exc, _tz())}", "error")
    _log("cancelled", mailing_id)
    return _back(found, "Das Mailing ist abgesagt.", "success")


# --- helpers ---------------------------------------------------------------------------

_STALE = (
    "Das Mailing wurde inzwischen geändert. Bitte prüfen Sie die aktuelle Fassung; "
    "es wurde nichts gespeichert."
)


def test_addresses() -> list[str]:
    """Where the logged-in editor may send test copies (the workflow's rule)."""
    actor = auth.current_actor()
    return flow().test_recipients(actor) if actor is not None else []


def item_order(current: tuple[int, ...], form: Mapping[str, str]) -> list[int]:
    """The new item order from the items form.

    Fields: ``position-<id>`` (a number), ``drop-<id>`` (any value: leave the item out),
    ``move`` (``<id>:up`` or ``<id>:down``, one step). On equal positions an item whose
    number was changed goes first (typing 1 means "make this the first"), then the old order.
    """
    get = form.get
    drop = {item_id for item_id in current if get(f"drop-{item_id}")}
    positions: dict[int, float] = {}
    for item_id in current:
        raw = (get(f"position-{item_id}") or "").strip()
        if raw:
            try:
                positions[item_id] = float(raw)
            except ValueError:
                raise ValueError(f"Die Position „{raw}“ ist keine Zahl.") from None
    step = None
    move = (get("move") or "").strip()
    if move:
        raw_id, _, direction = move.partition(":")
        if not raw_id.isdigit() or int(raw_id) in drop or int(raw_id) not in current:
            raise ValueError("Unbekannte Verschiebung.")
        if direction not in ("up", "down"):
            raise ValueError("Unbekannte Verschiebung.")
        step = (int(raw_id), -1 if direction == "up" else 1)
    return reorder(current, drop=drop, positions=positions, step=step)


def _mailing_or_404(mailing_id: int) -> Mailing:
    found = flow().find(mailing_id)
    if found is None:
        abort(404, description=f"Das Mailing {mailing_id} gibt es nicht.")
    return found


def _editable(mailing_id: int) -> Mailing:
    found = _mailing_or_404(mailing_id)
    if found.status not in lifecycle.EDITABLE:
        label = STATUS_LABELS.get(str(found.status), str(found.status))
        abort(409, description=f"Das Mailing ist „{label}“ und kann nicht mehr bearbeitet werden.")
    if not _current_version(found):
        abort(409, description=_STALE)
    return found


def _same_content(found: Mailing, form: Mapping[str, str]) -> bool:
    return (
        form.get("subject", "").strip() == found.subject
        and form.get("intro", "").replace("\r\n", "\n") == found.intro_md
        and form.get("preheader", "").strip() == found.preheader
    )


def _current_version(found: Mailing) -> bool:
    sent = request.form.get("version", "")
    return not sent or sent == found.updated_at.isoformat()


def _language(found: Mailing, wanted: str | None) -> str:
    languages = list(found.languages) or [deps().settings.organisation.language]
    if wanted is None:
        return languages[0]
    if wanted not in languages:
        abort(404, description=f"Das Mailing gibt es nicht auf „{wanted}“.")
    return wanted


def _rendered(found: Mailing, language: str) -> tuple[RenderedMailing | None, str | None]:
    """The stored render; a draft without one is rendered now (after every edit)."""
    try:
        renders = flow().renders(found)
    except RundbriefError as exc:
        log.warning("render failed", extra={"mailing": found.id, "error": str(exc)})
        if found.status != MailingStatus.DRAFT:
            return None, None
        return None, f"Die Darstellung ist fehlgeschlagen: {exc}"
    return renders.get(language), None


def _render(found: Mailing) -> str | None:
    try:
        flow().rerender(found.id, by=auth.acting())
    except RundbriefError as exc:
        log.warning("render failed", extra={"mailing": found.id, "error": str(exc)})
        return f"Die Darstellung ist fehlgeschlagen: {exc}"
    return None


def _delivery(view: MailingOverview) -> dict[str, object] | None:
    """Delivery counts by status, what was reported back and the commonest errors, once
    sending has started (the same overview ``mailing show`` prints)."""
    if not view.started:
        return None
    reported = [(BOUNCE_LABELS.get(k, k), n) for k, n in sorted(view.bounces.items())]
    reported += [("Beschwerden", view.complaints), ("Abmeldungen danach", view.unsubscribes)]
    return {
        "counts": [(DELIVERY_LABELS.get(k, k), n) for k, n in view.deliveries.items()],
        "total": sum(view.deliveries.values()),
        "reported": reported,
        "errors": list(view.top_errors),
    }


def _items(found: Mailing) -> list[Item]:
    by_id = flow().items(found)
    return [by_id[item_id] for item_id in found.item_ids if item_id in by_id]


def _after_edit(
    mailing_id: int, was: MailingStatus, message: str, anchor: str | None = None
) -> Response:
    found = _mailing_or_404(mailing_id)
    if was != MailingStatus.DRAFT:
        message += " Das Mailing ist wieder ein Entwurf und muss neu freigegeben werden."
    error = _render(found)
    if error:
        flash(message, "success")
        return _back(found, error, "error", anchor)
    return _back(found, message, "success", anchor)


def _back(found: Mailing, message: str, category: str, anchor: str | None = None) -> Response:
    flash(message, category)
    return redirect(url_for("editor.mailing", mailing_id=found.id, _anchor=anchor), code=303)


def _moved_row(form: Mapping[str, str]) -> str | None:
    """The row an ↑/↓ button moved (``item-<id>``), so the page opens at it again."""
    raw_id = (form.get("move") or "").partition(":")[0].strip()
    return f"item-{raw_id}" if raw_id.isdigit() else None


def _results(result: object) -> list[object]:
    if isinstance(result, list | tuple):
        return list(result)
    return [] if result is None else [result]


def _tz() -> tzinfo:
    return deps().settings.organisation.tz


def _local_input(value: datetime | None) -> str:
    """An instant as the value of a ``datetime-local`` field, in the organisation's zone."""
    if value is None:
        return ""
    return value.astimezone(deps().settings.organisation.tz).strftime("%Y-%m-%dT%H:%M")


def _parse_local(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=deps().settings.organisation.tz)
    return parsed


def _log(event: str, mailing_id: int, **extra: str) -> None:
    log.info(
        f"mailing {event}",
        extra={"mailing": mailing_id, "editor": auth.current_editor(), **extra},
    )


def status_label(status: MailingStatus | str) -> str:
    return STATUS_LABELS.get(str(status), str(status))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["kind_label"] = lambda kind: KIND_LABELS.get(str(kind), str(kind))
    app.jinja_env.filters["item_kind"] = lambda kind: ITEM_KIND_LABELS.get(str(kind), str(kind))
    app.jinja_env.filters["delivery_label"] = lambda s: DELIVERY_LABELS.get(str(s), str(s))
    app.jinja_env.filters["bounce_label"] = lambda k: BOUNCE_LABELS.get(str(k), str(k))
    app.jinja_env.filters["follow_kind"] = lambda k: FOLLOW_KIND_LABELS.get(str(k), str(k))
