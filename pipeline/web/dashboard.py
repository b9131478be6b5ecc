"""The editors' start page, ``GET /editor/``: what needs attention this week.

The last mailings with their state, the lists' sizes over the last twelve months (a
server-drawn SVG chart and the same numbers as a table), the failing feeds and whether
the daemon runs. Everything comes from the layers below (``schedule.collect_status``,
``subscribers.growth``, the workflow's list of mailings); this module only arranges it.
"""

from __future__ import annotations

from babel.dates import format_date
from flask import Blueprint, Flask, render_template

from pipeline.schedule import collect_status
from pipeline.subscribers import list_growth
from pipeline.web import auth, chart, csrf
from pipeline.web.context import deps
from pipeline.web.editor import flow
from pipeline.web.i18n import ui, ui_language

bp = Blueprint("dashboard", __name__, url_prefix="/editor")
auth.require_login(bp)
csrf.protect(bp)

LAST_MAILINGS = 6


@bp.get("/")
def index() -> str:
    d = deps()
    now = d.clock.now()
    language = ui_language()
    growth = list_growth(d.settings, d.store, now=now, language=language)
    tz = d.settings.organisation.tz
    labels = [
        format_date(at.astimezone(tz), "MMM yy", locale=language) for at in growth.instants[:-1]
    ]
    labels.append(ui("heute"))
    drawn = chart.line_chart([(g.title, g.sizes) for g in growth.lists], labels)
    return render_template(
        "editor/dashboard.html",
        mailings=flow().list_mailings()[:LAST_MAILINGS],
        growth=growth,
        chart=drawn,
        month_labels=labels,
        status=collect_status(d.settings, d.store, now=now),
    )


def register(app: Flask) -> None:
    app.register_blueprint(bp)
