"""Editors' pages: list mailings, preview a draft, edit it, send a test copy, approve.

    GET  /editor/                                  mailings with their status
    GET  /editor/mailings/<id>[?lang=de]           preview at 600 px and 375 px, text part,
                                                   forms for everything below
    GET  /editor/mailings/<id>/render/<lang>       the stored render (sample recipient),
                                                   served under a no-script policy
    POST /editor/mailings/<id>/content             subject, preheader, intro (Markdown), embargo
    POST /editor/mailings/<id>/items               drop and reorder items
    POST /editor/mailings/<id>/rerender            render the draft again
    POST /editor/mailings/<id>/test                a test copy to an editor's address
    POST /editor/mailings/<id>/approve             approve (renders and checks first)
    POST /editor/mailings/<id>/cancel              cancel

Every request needs a logged-in editor and every POST the session's CSRF token. Every
POST answers with a redirect to the mailing (post/redirect/get) and a message. Forms
that change content carry the mailing's version (``updated_at``): if someone else saved
in between, nothing is overwritten. The lifecycle rules live in
``pipeline.store.mailings``; this module only translates forms into those calls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from pipeline.errors import RundbriefError
from pipeline.models import Item, Mailing, MailingStatus
from pipeline.render import RenderedMailing
from pipeline.store import mailings as store_mailings
from pipeline.web import auth, csrf, deps, mailview

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
EDITABLE = {"draft", "approved", "scheduled"}
CANCELLABLE = {"draft", "approved", "scheduled", "paused"}


# --- pages -----------------------------------------------------------------------------


@bp.get("/")
def index() -> str:
    wanted = request.args.get("status") or None
    if wanted is not None and wanted not in STATUS_LABELS:
        abort(400, description=f"Unbekannter Status: {wanted}")
    found = store_mailings.list_mailings(deps().store, status=wanted)
    return render_template("editor/index.html", mailings=found, wanted=wanted)


@bp.get("/mailings/<int:mailing_id>")
def mailing(mailing_id: int) -> str:
    found = _mailing_or_404(mailing_id)
    language = _language(found, request.args.get("lang"))
    rendered, render_error = _rendered(found, language)
    text = ""
    if rendered is not None:
        values = mailview.sample_values(deps().settings, found, language)
        text = mailview.fill(rendered, values)[1]
    return render_template(
        "editor/mailing.html",
        mailing=found,
        delivery=_delivery(found),
        language=language,
        rendered=rendered,
        render_error=render_error,
        text=text,
        items=_items(found),
        test_addresses=test_addresses(),
        editable=str(found.status) in EDITABLE,
        cancellable=str(found.status) in CANCELLABLE,
        approvable=str(found.status) == "draft",
        send_at_local=_local_input(found.send_at),
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
    if "send_at" in form:
        try:
            changes["send_at"] = _parse_local(form.get("send_at", ""))
        except ValueError:
            return _back(found, "Die Sperrfrist ist kein gültiges Datum mit Uhrzeit.", "error")
    was = str(found.status)
    try:
        store_mailings.edit_mailing(deps().store, mailing_id, clock=deps().clock, **changes)  # type: ignore[arg-type]
    except RundbriefError as exc:
        return _back(found, f"Nicht gespeichert: {exc}", "error")
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
    was = str(found.status)
    try:
        store_mailings.edit_mailing(deps().store, mailing_id, clock=deps().clock, item_ids=order)
    except RundbriefError as exc:
        return _back(found, f"Nicht gespeichert: {exc}", "error")
    _log("items changed", mailing_id)
    return _after_edit(mailing_id, was, "Die Beiträge sind gespeichert.")


@bp.post("/mailings/<int:mailing_id>/rerender")
def rerender(mailing_id: int) -> Response:
    found = _mailing_or_404(mailing_id)
    if str(found.status) != "draft":
        return _back(found, "Nur Entwürfe werden neu dargestellt.", "error")
    error = _render(found)
    if error:
        return _back(found, error, "error")
    return _back(found, "Die Darstellung ist aktualisiert.", "success")


@bp.post("/mailings/<int:mailing_id>/test")
def send_test(mailing_id: int) -> Response:
    found = _mailing_or_404(mailing_id)
    to = request.form.get("to", "").strip()
    allowed = {address.casefold(): address for address in test_addresses()}
    if to.casefold() not in allowed:
        # The app must never become a relay: only editors' own addresses get copies.
        return _back(found, "Testkopien gehen nur an Adressen der Redaktion.", "error")
    if str(found.status) == "draft":
        rendered, error = _rendered(found, _language(found, None))
        if rendered is None:
            return _back(found, error or "Der Entwurf lässt sich nicht darstellen.", "error")
    from pipeline.deliver.single import send_test as deliver_test

    factory = deps().transport_factory
    transport = None
    try:
        transport = factory() if factory is not None else None
        result = deliver_test(
            deps().settings,
            deps().store,
            mailing_id,
            allowed[to.casefold()],
            clock=deps().clock,
            transport=transport,
        )
    except RundbriefError as exc:
        log.warning("test copy failed", extra={"mailing": mailing_id, "error": str(exc)})
        return _back(found, f"Die Testkopie wurde nicht versendet: {exc}", "error")
    finally:
        if transport is not None:
            transport.close()
    failed = [r for r in _results(result) if not getattr(r, "ok", True)]
    if failed:
        reason = getattr(failed[0], "error", None) or "unbekannter Fehler"
        return _back(found, f"Die Testkopie wurde nicht versendet: {reason}", "error")
    _log("test copy sent", mailing_id, to=allowed[to.casefold()])
    return _back(found, f"Eine Testkopie ist an {allowed[to.casefold()]} unterwegs.", "success")


@bp.post("/mailings/<int:mailing_id>/approve")
def approve(mailing_id: int) -> Response:
    found = _mailing_or_404(mailing_id)
    if not _current_version(found):
        return _back(found, _STALE, "error")
    editor = auth.current_editor() or "editor"
    try:
        store_mailings.approve(
            deps().store, mailing_id, clock=deps().clock, by=editor, settings=deps().settings
        )
    except RundbriefError as exc:
        return _back(found, f"Nicht freigegeben: {exc}", "error")
    _log("approved", mailing_id)
    return _back(found, "Das Mailing ist freigegeben.", "success")


@bp.post("/mailings/<int:mailing_id>/cancel")
def cancel(mailing_id: int) -> Response:
    found = _mailing_or_404(mailing_id)
    if request.form.get("confirm") != "yes":
        return _back(found, "Bitte bestätigen Sie die Absage mit dem Häkchen.", "error")
    try:
        store_mailings.cancel(
            deps().store, mailing_id, clock=deps().clock, by=auth.current_editor()
        )
    except RundbriefError as exc:
        return _back(found, f"Nicht abgesagt: {exc}", "error")
    _log("cancelled", mailing_id)
    return _back(found, "Das Mailing ist abgesagt.", "success")


# --- helpers ---------------------------------------------------------------------------

_STALE = (
    "Das Mailing wurde inzwischen geändert. Bitte prüfen Sie die aktuelle Fassung; "
    "es wurde nichts gespeichert."
)


def test_addresses() -> list[str]:
    """Where test copies may go: the logged-in editor (if the name is an address) and
    ``[sender] editors``."""
    out: list[str] = []
    editor = auth.current_editor() or ""
    candidates = ([editor] if "@" in editor else []) + list(deps().settings.sender.editors)
    for address in candidates:
        if address.casefold() not in {a.casefold() for a in out}:
            out.append(address)
    return out


def item_order(current: tuple[int, ...], form: Mapping[str, str]) -> list[int]:
    """The new item order from the items form.

    Fields: ``position-<id>`` (a number), ``drop-<id>`` (any value: leave the item out),
    ``move`` (``<id>:up`` or ``<id>:down``, one step). On equal positions an item whose
    number was changed goes first (typing 1 means "make this the first"), then the old order.
    """
    get = form.get
    keyed: list[tuple[float, int, int, int]] = []
    for index, item_id in enumerate(current):
        if get(f"drop-{item_id}"):
            continue
        raw = (get(f"position-{item_id}") or "").strip()
        try:
            position = float(raw) if raw else float(index + 1)
        except ValueError:
            raise ValueError(f"Die Position „{raw}“ ist keine Zahl.") from None
        changed = 0 if position != index + 1 else 1
        keyed.append((position, changed, index, item_id))
    order = [item_id for *_, item_id in sorted(keyed)]
    move = (get("move") or "").strip()
    if move:
        raw_id, _, direction = move.partition(":")
        if not raw_id.isdigit() or int(raw_id) not in order or direction not in ("up", "down"):
            raise ValueError("Unbekannte Verschiebung.")
        at = order.index(int(raw_id))
        to = at - 1 if direction == "up" else at + 1
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
    return order


def _mailing_or_404(mailing_id: int) -> Mailing:
    found = store_mailings.find_mailing(deps().store, mailing_id)
    if found is None:
        abort(404, description=f"Das Mailing {mailing_id} gibt es nicht.")
    return found


def _editable(mailing_id: int) -> Mailing:
    found = _mailing_or_404(mailing_id)
    if str(found.status) not in EDITABLE:
        label = STATUS_LABELS.get(str(found.status), str(found.status))
        abort(409, description=f"Das Mailing ist „{label}“ und kann nicht mehr bearbeitet werden.")
    if not _current_version(found):
        abort(409, description=_STALE)
    return found


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
    from pipeline.render import load_rendered

    rendered = load_rendered(deps().store, found.id, language)
    if rendered is None and str(found.status) == "draft":
        error = _render(found)
        if error:
            return None, error
        rendered = load_rendered(deps().store, found.id, language)
    return rendered, None


def _render(found: Mailing) -> str | None:
    from pipeline.render import render_mailing

    try:
        render_mailing(deps().settings, deps().store, found.id, clock=deps().clock)
    except RundbriefError as exc:
        log.warning("render failed", extra={"mailing": found.id, "error": str(exc)})
        return f"Die Darstellung ist fehlgeschlagen: {exc}"
    return None


def _delivery(found: Mailing) -> dict[str, object] | None:
    """Delivery counts by status and the commonest errors, once sending has started."""
    if str(found.status) not in {"sending", "paused", "sent"}:
        return None
    from pipeline.store import outbox

    counts = outbox.counts(deps().store, found.id)
    labels = {
        "sent": "zugestellt",
        "queued": "wartend",
        "sending": "in Arbeit",
        "retry": "erneuter Versuch geplant",
        "failed": "fehlgeschlagen",
        "suppressed": "gesperrt (abgemeldet, unzustellbar)",
    }
    return {
        "counts": [(labels.get(k, k), n) for k, n in counts.items()],
        "total": sum(counts.values()),
        "errors": outbox.top_errors(deps().store, found.id),
    }


def _items(found: Mailing) -> list[Item]:
    from pipeline.store.items import list_items

    by_id = {item.id: item for item in list_items(deps().store, ids=list(found.item_ids))}
    return [by_id[item_id] for item_id in found.item_ids if item_id in by_id]


def _after_edit(mailing_id: int, was: str, message: str) -> Response:
    found = _mailing_or_404(mailing_id)
    if was != "draft":
        message += " Das Mailing ist wieder ein Entwurf und muss neu freigegeben werden."
    error = _render(found)
    if error:
        flash(message, "success")
        return _back(found, error, "error")
    return _back(found, message, "success")


def _back(found: Mailing, message: str, category: str) -> Response:
    flash(message, category)
    return redirect(url_for("editor.mailing", mailing_id=found.id), code=303)


def _results(result: object) -> list[object]:
    if isinstance(result, list | tuple):
        return list(result)
    return [] if result is None else [result]


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
