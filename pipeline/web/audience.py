"""Public pages of the audience: sign-up, confirmation, unsubscribe, preferences.

    GET  /signup[?list=NAME]   the sign-up form (CSRF token, consent text, honeypot)
    POST /signup               form post (HTML answer) or JSON (``application/json``)
    GET  /confirm/<token>      a page with one button (mail scanners open links)
    POST /confirm/<token>      activates the pending subscription, records time and IP
    GET  /u/<token>            a page with one button; the GET itself changes nothing
    POST /u/<token>            RFC 8058 one-click: ``List-Unsubscribe=One-Click`` as
                               urlencoded or multipart body; unsubscribes at once and
                               answers 200, no redirect, no cookie
    GET/POST /p/<token>        preferences: lists and language

A test copy's links (and its ``List-Unsubscribe``) carry a token of purpose ``test``:
each of these addresses answers it with a page saying it was a test copy, in the
mail's language, and changes nothing (``_test_copy``).

The signed token in the URL is the credential of the unsubscribe, preferences and
confirmation pages, so they need no login and no CSRF cookie (a foreign page cannot know
the token). Every bad, altered, foreign or expired token gets the same plain page, which
says nothing about who or what it was for.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from pipeline.audience import (
    AddressError,
    NonAsciiLocalPart,
    RateLimited,
    Signup,
    Token,
    TokenError,
    load_preferences,
    pending_for,
    preferences_url,
    public_lists,
    read_link,
    read_test_link,
    signing_secret,
    unsubscribe_in,
)
from pipeline.errors import AudienceError, ConfigError
from pipeline.render import LANGUAGES
from pipeline.signup import confirm_signup, save_preferences_and_welcome, sign_up
from pipeline.store import audience as q
from pipeline.web import csrf
from pipeline.web.context import deps
from pipeline.web.i18n import page_language, t, use_language

log = logging.getLogger(__name__)

bp = Blueprint("audience", __name__)

HONEYPOT = "website"


def _secret() -> str | None:
    try:
        return signing_secret(deps().settings)
    except ConfigError:
        log.error("no signing secret configured: audience links cannot be checked")
        return None


def _ip() -> str:
    return request.remote_addr or "-"


def _invalid(status: int = 400) -> Response:
    """The one answer for every token we cannot honour: it says nothing more."""
    body = render_template("audience/invalid.html")
    return Response(body, status=status, mimetype="text/html")


def _token(token: str, purpose: Any) -> Token | None:
    secret = _secret()
    if secret is None:
        return None
    try:
        return read_link(deps().store, secret, token, purpose=purpose)
    except TokenError:
        log.info("bad token", extra={"purpose": purpose, "ip": _ip()})
        return None


def _test_copy(token: str) -> Response | None:
    """The page for a test copy's link (nothing changes), or None for any other token."""
    secret = _secret()
    found = read_test_link(secret, token) if secret is not None else None
    if found is None:
        return None
    use_language(found.language)
    log.info("test copy link", extra={"path": request.path})
    return Response(render_template("audience/test_copy.html"), mimetype="text/html")


def _list_title(name: str) -> str:
    """The list's title in the page's language."""
    found = next((m for m in deps().settings.lists if m.name == name), None)
    return found.title_in(page_language()) if found else name


def _speak_as(subscriber_id: int) -> None:
    """Pages behind a subscriber's link speak that subscriber's language."""
    with deps().store.connect() as conn:
        person = q.get_subscriber(conn, subscriber_id)
    if person is not None:
        use_language(person.language)


def _address_problem(exc: AddressError) -> str:
    # email-validator's English reason, as one of ours in the page's language
    return t("signup.invalid_address", reason=t(f"address.{exc.reason}"))


# --- sign-up ---------------------------------------------------------------------------


@bp.get("/signup")
def signup_form() -> WerkzeugResponse | str:
    wanted = request.args.get("list")
    if wanted:
        # One address per list's form: the old query form leads there.
        return redirect(url_for("audience.signup_list", name=wanted, lang=request.args.get("lang")))
    return _signup_page(public_lists(deps().settings), "")


@bp.get("/signup/<name>")
def signup_list(name: str) -> Response | str:
    """The sign-up form of one public list; any other name is a 404 in the site frame."""
    found = [m for m in public_lists(deps().settings) if m.name == name]
    if not found:
        abort(404)
    return _signup_page(found, name)


def _signup_page(lists: list[Any], chosen: str) -> str:
    settings = deps().settings
    chosen = chosen or (lists[0].name if lists else "")
    return render_template(
        "audience/signup.html",
        lists=lists,
        chosen=chosen,
        consent_text=settings.audience.consent_text,
        consent_version=settings.audience.consent_version,
        source=request.url,
        values={},
        error=None,
        honeypot=HONEYPOT,
    )


@bp.post("/signup")
def signup_post() -> Response | tuple[Response, int] | tuple[str, int]:
    as_json = request.is_json
    if as_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return jsonify(error="expected a JSON object"), 400
        fields = {k: str(v) if v is not None else "" for k, v in data.items()}
        consent = data.get("consent") is True
        source = fields.get("source") or request.headers.get("Referer") or "api"
    else:
        fields = {k: v for k, v in request.form.items()}
        # The answer speaks the page's language (the form posts it as ?lang=), else
        # the language the visitor chose on the form.
        if request.args.get("lang") not in LANGUAGES:
            use_language(fields.get("language", ""))
        csrf.check()
        consent = fields.get("consent") == "yes"
        source = fields.get("source") or request.headers.get("Referer") or request.url
        if fields.get(HONEYPOT):
            # A bot filled the hidden field: answer as always, do nothing.
            return _signed_up(fields.get("email", ""), as_json=False), 200
    if as_json:
        use_language(fields.get("language", ""))
    settings = deps().settings
    lists = public_lists(settings)
    list_name = fields.get("list") or (lists[0].name if len(lists) == 1 else "")
    if not consent:
        return _signup_error(fields, t("signup.need_consent"), as_json, 400)
    secret = _secret()
    if secret is None:
        return _signup_error(fields, t("signup.unavailable"), as_json, 503)
    try:
        outcome = sign_up(
            settings,
            deps().store,
            Signup(
                email=fields.get("email", ""),
                list_name=list_name,
                ip=_ip(),
                source=source,
                first_name=fields.get("first_name", ""),
                last_name=fields.get("last_name", ""),
                language=fields.get("language", ""),
            ),
            clock=deps().clock,
            secret=secret,
        )
    except RateLimited as exc:
        response = _signup_error(fields, t("signup.too_many"), as_json, 429)
        response[0].headers["Retry-After"] = str(exc.retry_after)
        return response
    except NonAsciiLocalPart:
        return _signup_error(fields, t("signup.non_ascii"), as_json, 400)
    except AddressError as exc:
        return _signup_error(fields, _address_problem(exc), as_json, 400)
    except (AudienceError, ConfigError) as exc:
        log.warning("sign-up refused", extra={"error": str(exc)})
        return _signup_error(fields, t("signup.no_list"), as_json, 400)
    worker = deps().mail_worker
    if outcome.action == "queued" and worker is not None:
        # The confirmation is recorded; the app's one mail worker sends it after the
        # answer (or the daemon's ``mail`` job does).
        worker.wake()
    return _signed_up(fields.get("email", ""), as_json=as_json), 202 if as_json else 200


def _signed_up(email: str, *, as_json: bool) -> Response:
    message = t("signup.done_message", email=email.strip())
    if as_json:
        return jsonify(status="pending", message=message)
    return Response(
        render_template(
            "audience/signup_done.html",
            message=message,
            days=deps().settings.audience.confirm_days,
        ),
        mimetype="text/html",
    )


def _signup_error(
    fields: dict[str, str], message: str, as_json: bool, status: int
) -> tuple[Response, int]:
    if as_json:
        return jsonify(error=message), status
    settings = deps().settings
    body = render_template(
        "audience/signup.html",
        lists=public_lists(settings),
        chosen=fields.get("list", ""),
        consent_text=settings.audience.consent_text,
        consent_version=settings.audience.consent_version,
        source=fields.get("source", ""),
        values=fields,
        error=message,
        honeypot=HONEYPOT,
    )
    return Response(body, mimetype="text/html"), status


# --- confirmation ----------------------------------------------------------------------


@bp.get("/confirm/<token>")
def confirm_page(token: str) -> Response | str:
    secret = _secret()
    if secret is None:
        return _invalid(503)
    try:
        _, status = pending_for(
            deps().settings, deps().store, token, clock=deps().clock, secret=secret
        )
    except TokenError:
        return _invalid()
    found = _token(token, "confirm")
    if found is not None:
        _speak_as(found.subscriber_id)
    title = _list_title(found.list_name) if found else ""
    return render_template("audience/confirm.html", title=title, done=status == "active")


@bp.post("/confirm/<token>")
def confirm_post(token: str) -> Response | str:
    secret = _secret()
    if secret is None:
        return _invalid(503)
    try:
        confirmed = confirm_signup(
            deps().settings, deps().store, token, ip=_ip(), clock=deps().clock, secret=secret
        )
    except TokenError:
        return _invalid()
    worker = deps().mail_worker
    if confirmed.welcome_id is not None and worker is not None:
        worker.wake()  # the list's welcome mail goes out after the answer
    found = _token(token, "confirm")
    if found is not None:
        _speak_as(found.subscriber_id)
    return render_template(
        "audience/confirm.html", title=_list_title(confirmed.list_name), done=True
    )


# --- unsubscribe -----------------------------------------------------------------------


@bp.get("/u/<token>")
def unsubscribe_page(token: str) -> Response | str:
    test = _test_copy(token)
    if test is not None:
        return test
    found = _token(token, "unsubscribe")
    if found is None:
        return _invalid()
    _speak_as(found.subscriber_id)
    with deps().store.connect() as conn:
        current = q.get_subscription(conn, found.subscriber_id, found.list_name)
    done = current is None or current.status == "unsubscribed"
    return render_template(
        "audience/unsubscribe.html",
        title=_list_title(found.list_name),
        done=done,
        action=url_for("audience.unsubscribe_post", token=token),
        preferences=_preferences_link(found),
    )


@bp.post("/u/<token>")
def unsubscribe_post(token: str) -> Response:
    # RFC 8058: the body is "List-Unsubscribe=One-Click" (urlencoded or multipart); the
    # signed token is the credential, so any POST to a genuine link unsubscribes.
    test = _test_copy(token)
    if test is not None:
        return test
    found = _token(token, "unsubscribe")
    if found is None:
        return _invalid()
    store, clock = deps().store, deps().clock
    with store.begin() as conn:
        person = q.get_subscriber(conn, found.subscriber_id)
        if person is not None:
            use_language(person.language)
            unsubscribe_in(
                conn,
                person.id,
                person.email,
                [found.list_name],
                clock=clock,
                detail=f"one-click {found.list_name}",
            )
    log.info(
        "one-click unsubscribe",
        extra={"subscriber": found.subscriber_id, "list": found.list_name},
    )
    body = render_template(
        "audience/unsubscribe.html",
        title=_list_title(found.list_name),
        done=True,
        action=None,
        preferences=_preferences_link(found) if person is not None else None,
    )
    return Response(body, status=200, mimetype="text/html")


def _preferences_link(found: Token) -> str | None:
    secret = _secret()
    if secret is None:
        return None
    return preferences_url(deps().settings, secret, found.subscriber_id, found.list_name)


# --- preferences -----------------------------------------------------------------------


@bp.route("/p/<token>", methods=["GET", "POST"])
def preferences_page(token: str) -> Response | str:
    test = _test_copy(token)
    if test is not None:
        return test
    found = _token(token, "preferences")
    if found is None:
        return _invalid()
    settings, store = deps().settings, deps().store
    _speak_as(found.subscriber_id)
    saved = False
    error = None
    if request.method == "POST":
        try:
            welcomed = save_preferences_and_welcome(
                settings,
                store,
                found.subscriber_id,
                lists=request.form.getlist("lists"),
                language=request.form.get("language", ""),
                ip=_ip(),
                source=request.base_url,
                clock=deps().clock,
                secret=_secret() or "",
            )
            saved = True
            worker = deps().mail_worker
            if welcomed and worker is not None:
                worker.wake()  # a newly ticked list's welcome mail
        except AudienceError:
            error = t("preferences.not_saved")
    current = load_preferences(settings, store, found.subscriber_id)
    if current is None:
        return _invalid()
    # A changed language shows at once: the answer to the save speaks the new one.
    use_language(current.language)
    return render_template(
        "audience/preferences.html",
        prefs=current,
        saved=saved,
        error=error,
        languages=[(code, t(f"languages.{code}")) for code in LANGUAGES],
    )


def register(app: Flask) -> None:
    app.register_blueprint(bp)
