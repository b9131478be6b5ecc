"""The editor's page of one subscriber: data, subscriptions and the audit log about them
(``/editor/subscribers/<id>``). An erased subscriber's page keeps the log, without
personal data. An admin sends a pending sign-up's confirmation again from here."""

from __future__ import annotations

import json

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from pipeline.access import Action, allowed
from pipeline.audience import RateLimited, signing_secret
from pipeline.errors import ConfigError, RundbriefError, SegmentError
from pipeline.mailings import Segments
from pipeline.signup import resend_confirmation as send_again
from pipeline.subscribers import Subscribers
from pipeline.web import auth, csrf, refusals
from pipeline.web.context import deps
from pipeline.web.i18n import ui, ui_language

bp = Blueprint("people", __name__, url_prefix="/editor")
auth.require_login(bp)
csrf.protect(bp)


PAGE = 50
STATUSES = ("active", "pending", "unsubscribed", "bounced", "suppressed")


@bp.get("/subscribers")
def subscribers() -> str:
    d = deps()
    text = request.args.get("q", "").strip()
    status = request.args.get("status", "")
    list_name = request.args.get("list", "").strip()
    after = request.args.get("after", "0")
    after_id = int(after) if after.isdigit() else 0
    where = request.args.get("where", "").strip()
    where_error = None
    try:
        rows = Subscribers(d.settings, d.store, d.clock).search(
            by=auth.acting(),
            text=text,
            list_name=list_name,
            status=status if status in STATUSES else "",
            after_id=after_id,
            limit=PAGE + 1,
            where=where or None,
        )
    except SegmentError as exc:
        rows = []
        where_error = ui("Die Merkmale sind so nicht lesbar: {reason}", reason=str(exc))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template(
        "editor/people_subscribers.html",
        rows=rows,
        q=text,
        status=status,
        list_name=list_name,
        statuses=STATUSES,
        where=where,
        where_error=where_error,
        next_after=rows[-1].subscriber.id if more else None,
    )


@bp.get("/lists")
def lists() -> str:
    d = deps()
    by = auth.acting()
    counts = Subscribers(d.settings, d.store, d.clock).counts(by=by)
    language = ui_language()
    fallback = d.settings.audience.consent_text
    segments = Segments(d.settings, d.store, d.clock).list(by=by)
    return render_template(
        "editor/people_lists.html",
        lists=[
            {
                "list": m,
                "title": m.title_in(language),
                "description": m.description_in(language),
                "consent": m.consent_in(language, fallback),
                "counts": counts.get(m.name, {}),
                "segments": [(s.name, s.source, s.count.per_list.get(m.name, 0)) for s in segments],
            }
            for m in d.settings.lists
        ],
        statuses=STATUSES,
    )


@bp.get("/signups")
def signups() -> str:
    d = deps()
    by = auth.acting()
    titles = {m.name: m.title or m.name for m in d.settings.lists}
    pending = [
        (p, titles.get(p.list_name, p.list_name))
        for p in Subscribers(d.settings, d.store, d.clock).pending(by=by)
    ]
    return render_template(
        "editor/people_signups.html",
        pending=pending,
        may_resend=allowed(by, Action.MANAGE_LISTS),
    )


@bp.get("/subscribers/<int:subscriber_id>")
def subscriber(subscriber_id: int) -> tuple[str, int] | str:
    d = deps()
    by = auth.acting()
    people = Subscribers(d.settings, d.store, d.clock)
    record, entries = people.show(subscriber_id, by=by)
    history = people.history(record.subscriber.email, by=by) if record is not None else None
    page = render_template(
        "editor/subscriber.html",
        subscriber_id=subscriber_id,
        record=record,
        history=history,
        audit_entries=entries,
        list_titles={m.name: m.title or m.name for m in d.settings.lists},
        consent_texts={d.settings.audience.consent_version: d.settings.audience.consent_text},
        may_resend=allowed(by, Action.MANAGE_LISTS),
        may_unsubscribe=allowed(by, Action.UNSUBSCRIBE),
        may_suppress=allowed(by, Action.SUPPRESS),
        may_export=allowed(by, Action.EXPORT),
        may_erase=allowed(by, Action.ERASE),
    )
    return (page, 404) if record is None and not entries else page


@bp.post("/subscribers/<int:subscriber_id>/export")
def export(subscriber_id: int) -> Response:
    d = deps()
    by = auth.acting()
    people = Subscribers(d.settings, d.store, d.clock)
    record, _ = people.show(subscriber_id, by=by)
    if record is None:
        abort(404)
    document = people.export(record.subscriber.email, by=by)
    answer = Response(
        json.dumps(document, ensure_ascii=False, indent=2, default=str),
        mimetype="application/json",
    )
    answer.headers["Content-Disposition"] = f'attachment; filename="abonnent-{subscriber_id}.json"'
    return answer


@bp.post("/subscribers/<int:subscriber_id>/resend-confirmation")
def resend_confirmation(subscriber_id: int) -> Response:
    d = deps()
    by = auth.acting()
    record, _ = Subscribers(d.settings, d.store, d.clock).show(subscriber_id, by=by)
    if record is None:
        abort(404)
    email = record.subscriber.email
    list_name = request.form.get("list", "")
    back = redirect(url_for("people.subscriber", subscriber_id=subscriber_id), code=303)
    try:
        send_again(
            d.settings,
            d.store,
            email,
            list_name,
            by=by,
            clock=d.clock,
            secret=signing_secret(d.settings),
        )
    except RateLimited as exc:
        minutes = d.settings.audience.resend_confirmation_minutes
        flash(
            f"Die letzte Bestätigung an {email} ging vor weniger als {minutes} Minuten "
            f"raus; bitte in {(exc.retry_after + 59) // 60} Minuten erneut.",
            "error",
        )
        return back
    except (RundbriefError, ConfigError) as exc:
        flash(f"Nicht gesendet: {refusals.reason(exc)}", "error")
        return back
    if d.mail_worker is not None:
        d.mail_worker.wake()  # the confirmation goes out after the answer
    flash(f"Die Bestätigung an {email} für {list_name} ist unterwegs.", "success")
    return back


def register(app: Flask) -> None:
    app.register_blueprint(bp)
