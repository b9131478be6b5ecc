"""The press kit on the editor's mailing page: upload a file, remove one.

    POST /editor/mailings/<id>/files                 multipart: file, name, credit, licence, alt
    POST /editor/mailings/<id>/files/<name>/remove   remove a file

Part of the editor blueprint (login and CSRF as every editor form). A refused upload
shows the page again with what was typed (name, credit, licence, alt text; a browser
never keeps a chosen file) and the reason in German; a file saved answers with a
redirect (post/redirect/get). The rules are the workflow's (``Workflow.add_file``).
"""

from __future__ import annotations

import logging

from flask import Flask, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response

from pipeline.errors import PressFileError, RundbriefError
from pipeline.web import auth, editor, refusals
from pipeline.web.context import deps

log = logging.getLogger(__name__)

# The upload form and the API's upload: the two requests that carry a whole file.
UPLOAD_ENDPOINTS = frozenset({"editor.upload_file", "api.mailings_add_file"})
_FIELDS = ("name", "credit", "licence", "alt")


@editor.bp.post("/mailings/<int:mailing_id>/files")
def upload_file(mailing_id: int) -> Response | tuple[str, int]:
    found = editor._editable(mailing_id)  # the editor's own guards
    form = request.form
    kept = {key: form.get(key, "").strip() for key in _FIELDS}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _again(mailing_id, kept, "Bitte wählen Sie eine Datei aus.")
    data = upload.read()
    was = found.status
    try:
        added = editor.flow().add_file(
            mailing_id,
            by=auth.acting(),
            data=data,
            name=kept["name"] or upload.filename,
            credit=kept["credit"],
            licence=kept["licence"],
            alt_text=kept["alt"],
        )
    except RundbriefError as exc:
        return _again(mailing_id, kept, _german(exc))
    log.info("press kit file added", extra={"mailing": mailing_id, "file": added.name})
    return editor._after_edit(mailing_id, was, f"„{added.name}“ ist im Pressematerial.")


@editor.bp.post("/mailings/<int:mailing_id>/files/<name>/remove")
def remove_file(mailing_id: int, name: str) -> Response:
    found = editor._editable(mailing_id)
    was = found.status
    try:
        editor.flow().remove_file(mailing_id, name, by=auth.acting())
    except RundbriefError as exc:
        flash(f"Nicht entfernt: {_german(exc)}", "error")
        return redirect(url_for("editor.mailing", mailing_id=mailing_id), code=303)
    return editor._after_edit(mailing_id, was, f"„{name}“ ist aus dem Pressematerial entfernt.")


def _again(mailing_id: int, kept: dict[str, str], message: str) -> tuple[str, int]:
    """The mailing page again, with what was typed and why it was refused."""
    g.kit_form = kept
    g.kit_error = f"Nicht hinzugefügt: {message}"
    return editor.mailing(mailing_id), 422


def _german(exc: RundbriefError) -> str:
    if isinstance(exc, PressFileError):
        text = str(exc)
        if "broken or not an image" in text:
            return "Das Bild ist beschädigt oder kein Bild, das sich öffnen lässt."
        if "nothing is left" in text:
            return (
                "Aus dem Dateinamen bleibt nichts für einen Link übrig; geben Sie einen "
                "Namen mit Buchstaben oder Ziffern an."
            )
        if "is empty" in text:
            return "Die Datei ist leer."
        if "max_file_bytes" in text:
            limit = deps().settings.press.max_file_bytes
            return f"Die Datei ist größer als erlaubt ({limit // 1_000_000} MB)."
        if "newsletter" in text:
            return "Pressematerial gibt es nur bei Pressemitteilungen."
        if "has no file" in text:
            return "Diese Datei gibt es nicht (mehr)."
    return refusals.reason(exc, deps().settings.organisation.tz)


def _allow_uploads() -> None:
    # Before the CSRF check reads the form: only this form may be as large as a photo.
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = deps().settings.press.max_file_bytes + 1024 * 1024


def register(app: Flask) -> None:
    app.before_request(_allow_uploads)
