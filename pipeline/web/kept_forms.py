"""No lost work when a session ends: what was typed survives the log-in.

An editor whose session ended (``SESSION_HOURS`` passed, logged out in another tab)
and who then sends a form does not get a bare 401: ``login_instead()`` keeps the
posted fields on the server, under the SHA-256 of a one-time token that only this
browser's cookie holds (``session["kept"]``), and answers with the log-in form (still
401). After the log-in the editor is back on the page the form was on
(``return_page``), and that page takes the kept fields (``take()``, once) and shows
them in its form, with the notice "Ihr Text ist noch nicht gespeichert".

Why pre-fill and not re-submit after the log-in: the request was made in a session
that had ended, by a browser we could no longer tie to a person. Re-submitting would
act (approve, send a test copy, save) on the strength of a log-in that happened later
and perhaps by someone else at the same computer, on a mailing that may have changed
meanwhile. Pre-filling acts on nothing: the editor sees the text and saves it
consciously, with the page's current version, so the usual conflict check applies.

What is kept: only when the form carries this browser's CSRF token (a foreign site
cannot plant text that an editor might later save); never a password, a code, a token
or an upload (uploads are not in ``request.form``); at most ``MAX_FIELDS`` fields and
``MAX_CHARS`` characters, else nothing. A kept form counts only for the account whose
session ended (if it is known) and is purged after ``KEEP_FOR``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template, request, session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from pipeline.store import kept_forms as q
from pipeline.web import csrf
from pipeline.web.context import SESSION_HOURS, deps

KEY = "kept"
MAX_FIELDS = 40
MAX_CHARS = 100_000
KEEP_FOR = timedelta(hours=SESSION_HOURS)
FALLBACK_PAGE = "/editor/"
# Never kept, whatever the form: secrets and what protects the form itself.
_NEVER = ("password", "code", "token", "secret", "csrf")


@dataclass(frozen=True)
class Kept:
    """A form kept over the log-in: the view it was posted to and the fields typed."""

    endpoint: str
    fields: dict[str, str]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def return_page(path: str) -> str:
    """The editor page a form posted to ``path`` was on: ``path`` itself or the nearest
    parent that is a page (``/editor/mailings/5/content`` → ``/editor/mailings/5``)."""
    adapter = current_app.url_map.bind("")
    candidate = path
    while candidate.startswith("/editor/") or candidate == "/editor":
        try:
            adapter.match(candidate, method="GET")
        except HTTPException:
            pass
        else:
            return candidate
        candidate = candidate.rsplit("/", 1)[0]
    return FALLBACK_PAGE


def _worth_keeping() -> dict[str, str] | None:
    fields: dict[str, str] = {}
    for name, value in request.form.items():
        lowered = name.lower()
        if any(word in lowered for word in _NEVER):
            continue
        fields[name] = value
    if not fields or len(fields) > MAX_FIELDS:
        return None
    if sum(len(k) + len(v) for k, v in fields.items()) > MAX_CHARS:
        return None
    return fields


def login_instead(ended_account: str | None) -> Response:
    """The answer to a form sent without a live session: the log-in form (401), the
    typed fields kept for after the log-in (see the module docstring)."""
    page = return_page(request.path)
    fields = _worth_keeping() if csrf.valid() else None
    kept = False
    if fields is not None and request.endpoint:
        token = secrets.token_urlsafe(32)
        now = deps().clock.now()
        q.keep_form(
            deps().store,
            q.KeptForm(
                token_hash=_hash(token),
                account=ended_account,
                endpoint=request.endpoint,
                page=page,
                fields=fields,
                created_at=now,
            ),
            purge_before=now - KEEP_FOR,
        )
        session[KEY] = token
        kept = True
    body = render_template(
        "auth/login.html",
        configured=True,
        next=page,
        expired=True,
        kept=kept,
    )
    return Response(body, status=401, mimetype="text/html")


def pending() -> str | None:
    """This browser's kept-form token (read before the log-in clears the cookie)."""
    token = session.get(KEY)
    return token if isinstance(token, str) and token else None


def hand_over(token: str | None) -> None:
    """Put the kept-form token into the fresh session that the log-in opened."""
    if token:
        session[KEY] = token


def take(account: str | None) -> Kept | None:
    """The form kept for this page and ``account`` (the one now logged in), once.

    A form kept for another page or another account is dropped, never shown."""
    token = session.pop(KEY, None)
    if not isinstance(token, str) or not token:
        return None
    found = q.take_form(deps().store, _hash(token))
    if found is None:
        return None
    if found.created_at < deps().clock.now() - KEEP_FOR:
        return None
    if found.page != request.path:
        return None
    if found.account is not None and found.account != account:
        return None
    return Kept(endpoint=found.endpoint, fields=found.fields)
