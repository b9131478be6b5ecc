"""The editor's page of one subscriber: data, subscriptions and the audit log about them
(``/editor/subscribers/<id>``). An erased subscriber's page keeps the log, without
personal data."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

from pipeline.subscribers import Subscribers
from pipeline.web import auth
from pipeline.web.context import deps

bp = Blueprint("people", __name__, url_prefix="/editor")
auth.require_login(bp)


@bp.get("/subscribers/<int:subscriber_id>")
def subscriber(subscriber_id: int) -> tuple[str, int] | str:
    d = deps()
    record, entries = Subscribers(d.settings, d.store, d.clock).show(
        subscriber_id, by=auth.acting()
    )
    page = render_template(
        "editor/subscriber.html",
        subscriber_id=subscriber_id,
        record=record,
        audit_entries=entries,
    )
    return (page, 404) if record is None and not entries else page


def register(app: Flask) -> None:
    app.register_blueprint(bp)
