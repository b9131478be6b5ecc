"""A warning before leaving a page with unsaved changes (progressive enhancement).

A form opts in with ``<form … {{ unsaved_warning() }}>`` (``unsaved_warning(True)``: the
form holds text that is not saved yet from the start, e.g. kept over a log-in). That
marks it ``data-unsaved-warning`` and notes for this request that the page needs
``/assets/unsaved.js``: the layout then loads it (at the end of the body, after the
content that marked a form was rendered) and this page's Content-Security-Policy gets
``script-src 'self'``. Every other page keeps the policy without any script. The pages
work without JavaScript; the script only adds the browser's "leave page?" question.
"""

from __future__ import annotations

from flask import Flask, Response, g, has_request_context
from markupsafe import Markup

_FLAG = "unsaved_warning"


def mark(dirty: bool = False) -> Markup:
    """The form attribute (``data-unsaved-warning``), and the script for this page."""
    if has_request_context():
        g.setdefault(_FLAG, True)
    return Markup('data-unsaved-warning="dirty"' if dirty else "data-unsaved-warning")


def wanted() -> bool:
    """Whether a form on this page asked for the warning."""
    return has_request_context() and bool(g.get(_FLAG))


def register(app: Flask) -> None:
    from pipeline.web import DEFAULT_CSP

    app.jinja_env.globals["unsaved_warning"] = mark
    app.jinja_env.globals["unsaved_warning_script"] = wanted

    @app.after_request
    def _allow_our_script(response: Response) -> Response:
        # Runs before the default security headers (after_request runs in reverse), so
        # the default policy is only the fallback.
        if wanted() and response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy", f"{DEFAULT_CSP}; script-src 'self'"
            )
        return response
