"""Named accounts with roles, log-in, sessions, a second factor and API tokens.

Public API:

- ``Accounts(store, settings, clock)``: the service. Changes are done ``by`` an
  ``Actor`` and need ``Action.MANAGE_ACCOUNTS`` unless they touch the actor's own
  account: ``add``, ``list``, ``get``, ``set_role``, ``disable``, ``enable``,
  ``passwd``, ``enroll_totp``, ``drop_totp``, ``sessions``, ``end_session``,
  ``create_token``, ``tokens``, ``revoke_token``. Credentials become an ``Actor``
  through ``authenticate`` (throttled, TOTP) and ``verify_token`` (API);
  ``actor_for(email, channel)`` is the CLI's ``--as`` and ``operator()`` the daemon's.
- ``Account``, ``ApiToken``, ``AccountSession``: what the service returns.
- ``adopt_legacy`` / ``legacy_warning``: the shared environment log-in of old
  becomes the first admin.
- ``totp_code``: the current code of a secret (tests, the demo).
"""

from __future__ import annotations

from pipeline.accounts.legacy import adopt as adopt_legacy
from pipeline.accounts.legacy import warning as legacy_warning
from pipeline.accounts.service import (
    BUILTIN_OPERATOR,
    Account,
    Accounts,
    AccountSession,
    ApiToken,
)
from pipeline.accounts.totp import code_at as totp_code

__all__ = [
    "BUILTIN_OPERATOR",
    "Account",
    "AccountSession",
    "Accounts",
    "ApiToken",
    "adopt_legacy",
    "legacy_warning",
    "totp_code",
]
