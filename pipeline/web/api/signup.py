"""/signup: a website's own sign-up form posts here (no token: it is public).

Exactly the double opt-in of the web form (``pipeline.signup.sign_up``): the consent
must be given, sign-ups are limited per client address (``[audience]
signups_per_ip_per_hour``; 429 ``rate_limited`` with ``Retry-After``), a pending
subscription and its confirmation mail are recorded, and the answer is the same whether
the address was known or not.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from pipeline.audience import Signup, public_lists, signing_secret
from pipeline.errors import ConfigError
from pipeline.signup import sign_up
from pipeline.web.api import common as c
from pipeline.web.api.errors import ApiError, invalid
from pipeline.web.api.spec import EMAIL, STRING, obj, route
from pipeline.web.context import deps

TAG = "signup"


@route(
    "POST",
    "/signup",
    "Sign someone up (double opt-in)",
    tag=TAG,
    public=True,
    body=obj(
        ("email", "consent"),
        email=EMAIL,
        list=STRING,
        consent={"type": "boolean", "const": True},
        first_name=STRING,
        last_name=STRING,
        language={"type": "string", "enum": ["de", "en"]},
        source=STRING,
    ),
    status=202,
    returns=obj(("status",), status={"type": "string", "const": "pending"}, message=STRING),
    description="Records a pending subscription and sends the confirmation mail; the "
    "subscription starts when the link in it is followed. `list` may be left out when "
    "there is one public list. The same answer whether the address was known or not.",
)
def sign_up_view() -> tuple[Response, int]:
    data = c.body()
    d = deps()
    if data.get("consent") is not True:
        raise invalid("consent must be true: the person ticked the consent box", "consent")
    email = c.text(data, "email", required=True) or ""
    lists = public_lists(d.settings)
    list_name = c.text(data, "list") or (lists[0].name if len(lists) == 1 else "")
    if not list_name:
        raise invalid("list is required (there is more than one public list)", "list")
    try:
        secret = signing_secret(d.settings)
    except ConfigError:
        raise ApiError(
            503, "unavailable", "sign-up is not configured (no signing secret)"
        ) from None
    sign_up(
        d.settings,
        d.store,
        Signup(
            email=email,
            list_name=list_name,
            ip=request.remote_addr or "-",
            source=c.text(data, "source") or request.headers.get("Referer") or "api",
            first_name=c.text(data, "first_name") or "",
            last_name=c.text(data, "last_name") or "",
            language=c.text(data, "language") or "",
        ),
        clock=d.clock,
        secret=secret,
    )
    if d.mail_worker is not None:
        d.mail_worker.wake()  # the confirmation goes out after the answer
    return jsonify(
        status="pending",
        message="Please confirm the subscription with the link in the mail just sent.",
    ), 202
