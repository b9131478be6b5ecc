"""Downloads of press kit files: the links in a press release.

    GET /press/<id>/files/<name>[?t=TOKEN]           the file
    GET /press/<id>/files/<name>/preview[?t=TOKEN]   an image's preview (the mail shows it)

Who gets a file is the workflow's rule (``pipeline.mailings.kits``): logged-in editors
always; anyone once the release went out and its Sperrfrist has passed; before that only
the recipient whose personal link (``?t=``) names this file. Everyone else, and every
unknown release or file, gets the same 404: nothing says whether a file exists.

The bytes are checked against their checksum before they leave; a file altered on disk
is not served (404, logged for the operator). A public file may be cached; one opened
before the embargo never (``private, no-store``), so no shared cache hands it on.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, abort, request
from werkzeug.wrappers import Response

from pipeline.errors import PressFileError
from pipeline.mailings import Workflow
from pipeline.web import auth
from pipeline.web.context import deps

log = logging.getLogger(__name__)

bp = Blueprint("press_files", __name__, url_prefix="/press")

CACHE_SECONDS = 3600
# Shown in the browser where that is safe; everything else is a download, and nothing
# served from here may run script on our origin (an uploaded .html or .svg).
INLINE = frozenset({"application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp"})
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _flow() -> Workflow:
    d = deps()
    return Workflow(d.settings, d.store, d.clock)


@bp.get("/<int:mailing_id>/files/<name>")
def download(mailing_id: int, name: str) -> Response:
    return _serve(mailing_id, name, preview=False)


@bp.get("/<int:mailing_id>/files/<name>/preview")
def preview(mailing_id: int, name: str) -> Response:
    return _serve(mailing_id, name, preview=True)


def _serve(mailing_id: int, name: str, *, preview: bool) -> Response:
    flow = _flow()
    token = request.args.get("t", "")
    by = auth.current_actor()
    try:
        if preview:
            found = flow.preview_image(mailing_id, name, token=token, by=by)
        else:
            found = flow.download(mailing_id, name, token=token, by=by)
    except PressFileError as exc:
        log.error("press kit file not served: %s", exc, extra={"mailing": mailing_id})
        abort(404)
    if found is None:
        abort(404)
    file = found.file
    kind = (file.preview_type or "image/jpeg") if preview else file.content_type
    response = Response(found.data, mimetype=kind)
    disposition = "inline" if kind in INLINE else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{file.name}"'
    response.headers["Content-Security-Policy"] = FILE_CSP
    sha = file.preview_sha256 if preview else file.sha256
    response.headers["ETag"] = f'"{sha}"'
    if found.public:
        response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    else:
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Vary"] = "Cookie"
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)
