"""The public archive: every sent mailing, as anyone may see it, without personal data.

    GET /archive                          sent newsletters and press releases, newest first
    GET /archive/<id>[/<lang>]            one of them: the stored render, filled neutrally
    GET /archive/unsubscribe-info         where archive copies point their unsubscribe links
    GET /                                 redirects to /archive

Only mailings that have gone out appear (``sent``, or ``sending``/``paused``: recipients
already hold "view in browser" links to them); drafts, approved or cancelled mailings and
press releases still under embargo answer 404 like an unknown id, so the archive reveals
nothing about what is in preparation. A press release lists its follow-ups that went
out; a withdrawn one shows that it was withdrawn instead (``followups``). The copy is
the very render that was
sent, with every per-recipient placeholder replaced by a neutral value (see
``mailview.neutral_values``): no name, no address, no token. No login, no cookie.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from pipeline.errors import RundbriefError
from pipeline.mailings import Workflow
from pipeline.models import MailingKind
from pipeline.web import archive_frame, followups, mailview
from pipeline.web.context import deps
from pipeline.web.i18n import t

bp = Blueprint("archive", __name__, url_prefix="/archive")

# Sent mails never change: let browsers and proxies keep them for an hour.
CACHE_SECONDS = 3600
# A press release may still be withdrawn or corrected: its page is kept only briefly.
FOLLOW_UP_CACHE_SECONDS = 60


def _flow() -> Workflow:
    return Workflow(deps().settings, deps().store, deps().clock)


@bp.get("", strict_slashes=False)
def index() -> str:
    shown = _flow().published_mailings()
    endpoints = {rule.endpoint for rule in current_app.url_map.iter_rules()}
    return render_template(
        "archive/index.html", mailings=shown, endpoints=endpoints, signup=_newsletter_signup()
    )


def _newsletter_signup() -> str | None:
    """The sign-up form of the newsletter's list (the first of ``compose.newsletter_lists`` that
    takes sign-ups), else the page of all lists; None when no list takes sign-ups."""
    settings = deps().settings
    public = [m.name for m in settings.lists if m.double_opt_in]
    if not public:
        return None
    newsletter = next((n for n in settings.compose.newsletter_lists if n in public), None)
    if newsletter is None:
        return url_for("audience.signup_form")
    return url_for("audience.signup_list", name=newsletter)


@bp.get("/<int:mailing_id>")
@bp.get("/<int:mailing_id>/<language>")
def show(mailing_id: int, language: str | None = None) -> Response:
    flow = _flow()
    found = flow.find_published(mailing_id)
    if found is None:
        abort(404, description=t("archive.not_found"))
    languages = list(found.languages) or [deps().settings.organisation.language]
    language = language or languages[0]
    if language not in languages:
        abort(404, description=t("archive.no_language"))
    try:
        rendered = flow.renders(found)[language]
    except (RundbriefError, KeyError):
        abort(404, description=t("archive.not_found"))
    local_date = current_app.jinja_env.filters["local_date"]
    shown, withdrawal = flow.public_follow_ups(found.id)
    if withdrawal is not None:
        return followups.withdrawn_page(found, withdrawal, local_date)
    html = mailview.fill(rendered, mailview.neutral_values(deps().settings, found, language))[0]
    html = followups.with_follow_ups(html, shown, local_date)
    html = _in_site_frame(found.id, languages, html)
    # a release with follow-ups may get more (a withdrawal): browsers ask again sooner
    cache = CACHE_SECONDS if found.kind != MailingKind.PRESS else FOLLOW_UP_CACHE_SECONDS
    return mailview.mail_response(html, cache_seconds=cache)


def _in_site_frame(mailing_id: int, languages: list[str], html: str) -> str:
    """The copy in the site's frame, without its "view in browser" link to itself."""
    base = deps().settings.web.base_url
    own = [url_for("archive.show", mailing_id=mailing_id)] + [
        url_for("archive.show", mailing_id=mailing_id, language=lang) for lang in languages
    ]
    html = archive_frame.without_links_to(html, [base + path for path in own])
    return archive_frame.framed(
        html,
        back_url=url_for("archive.index"),
        signup_url=_newsletter_signup(),
        feed_url=url_for("archive_feed.feed"),
        organisation=deps().settings.organisation.name,
    )


@bp.get("/unsubscribe-info")
def unsubscribe_info() -> str:
    sender = deps().settings.sender
    return render_template(
        "archive/unsubscribe_info.html", contact=sender.reply_to or sender.from_address
    )


@bp.after_request
def _no_stale_absence(response: Response) -> Response:
    # The list changes the second an embargo ends, and a release's 404 before it turns
    # into its page: a cache keeping either would hide the release after its embargo.
    # Only a page as sent (200, never changes) may be kept.
    if response.status_code != 200 or request.endpoint == "archive.index":
        response.headers["Cache-Control"] = "no-store"
    return response


def _home() -> Response:
    return redirect(url_for("archive.index"))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    # The site's front door is the archive: the one public page that needs no link.
    app.add_url_rule("/", endpoint="home", view_func=_home)
