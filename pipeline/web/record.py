"""The distribution record ("Versandprotokoll") in the editor's pages: the section of the
mailing page (``section``, a page of lines at a time) and its CSV download.

    GET /editor/mailings/<id>/record.csv     every line, CSV safe for spreadsheets

The lines come from the workflow (``Workflow.distribution_record``); this module only
shapes them for the page and streams the download.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo

from flask import Blueprint, Flask, abort
from werkzeug.wrappers import Response

from pipeline.mailings import Workflow
from pipeline.mailings import record as mailing_record
from pipeline.web import auth
from pipeline.web.context import deps

bp = Blueprint("record", __name__, url_prefix="/editor")
auth.require_login(bp)

PAGE = 100  # lines on the mailing page; the rest one link further, all in the download


def _flow() -> Workflow:
    d = deps()
    return Workflow(d.settings, d.store, d.clock)


def section(mailing_id: int, after: str | None) -> dict[str, object] | None:
    """The lines after delivery ``after`` (``?protokoll_ab=``) for the mailing page, and
    where the next page starts; None while the mailing has no delivery."""
    start = int(after) if after and after.isdigit() else None
    lines = list(
        _flow().distribution_record(mailing_id, by=auth.acting(), after=start, limit=PAGE + 1)
    )
    if not lines and start is None:
        return None
    more = len(lines) > PAGE
    lines = lines[:PAGE]
    return {
        "lines": lines,
        "next": lines[-1].delivery_id if more and lines else None,
        "paged": start is not None,
        "time_zone": str(deps().settings.organisation.tz),
    }


@bp.get("/mailings/<int:mailing_id>/record.csv")
def download(mailing_id: int) -> Response:
    flow = _flow()
    if flow.find(mailing_id) is None:
        abort(404)
    lines = flow.distribution_record(mailing_id, by=auth.acting())
    tz = deps().settings.organisation.tz
    response = Response(_csv(lines, tz), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="versandprotokoll-{mailing_id}.csv"'
    )
    return response


def _csv(lines: Iterator[mailing_record.RecordEntry], tz: tzinfo) -> Iterator[bytes]:
    # A byte order mark first: spreadsheets then read the umlauts as UTF-8.
    yield "\ufeff".encode()
    for text in mailing_record.csv_lines(lines, tz):
        yield text.encode("utf-8")


def register(app: Flask) -> None:
    app.register_blueprint(bp)
