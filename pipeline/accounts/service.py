"""The accounts service: every operation on accounts, log-ins and API tokens.

Each operation that changes an account is done ``by`` an ``Actor`` and asks
``access.require(by, Action.MANAGE_ACCOUNTS)`` first, except what anyone may do to
their own account (change the password, list and end their sessions, enroll a second
factor, make and revoke their own API tokens). Log-in (``authenticate``) and token
checks (``verify_token``) turn credentials into the ``Actor`` the adapters pass on.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from pipeline.access import Action, Actor, Role, require
from pipeline.accounts import events, passwords, tokens, totp
from pipeline.accounts.throttle import Throttle
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import AccountError, LoginRefused
from pipeline.store import Store
from pipeline.store import accounts as q
from pipeline.store import web_sessions as sq
from pipeline.store.accounts import AccountRow, TokenRow, email_key

# The daemon's actor when ``[accounts] operator`` names nobody: it may approve, schedule
# and send (auto_approve), nothing more.
BUILTIN_OPERATOR = "daemon@localhost"
WRONG = "Wrong e-mail address or password."
MAX_PASSWORD = 1024
UI_LANGUAGES = ("de", "en")  # the languages the editors' pages are written in


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    role: Role
    active: bool
    totp_enrolled: bool
    created_at: datetime
    last_login_at: datetime | None
    ui_language: str | None = None  # None: the default (``Accounts.ui_language_of``)

    @property
    def label(self) -> str:
        return self.name or self.email


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    email: str  # the owner's
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"


@dataclass(frozen=True)
class AccountSession:
    """One web session of an account (``ref`` names it for "end this session")."""

    ref: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    client_address: str | None
    user_agent: str | None

    def live(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at


def _public(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        email=row.email,
        name=row.name,
        role=Role(row.role),
        active=row.active,
        totp_enrolled=bool(row.totp_secret),
        created_at=row.created_at,
        last_login_at=row.last_login_at,
        ui_language=row.ui_language,
    )


def _role(value: str | Role) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise AccountError(f"unknown role {value!r}: expected one of {names}") from None


def _check_email(email: str) -> str:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not (at and local and domain) or any(c.isspace() for c in email) or len(email) > 320:
        raise AccountError(f"{email!r} is not an e-mail address")
    return email


class Accounts:
    def __init__(self, store: Store, settings: Settings, clock: Clock) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.throttle = Throttle(store, clock)

    # --- reading -----------------------------------------------------------------------

    def _row(self, email: str) -> AccountRow:
        row = q.find_account(self.store, email)
        if row is None:
            raise AccountError(f"no account {email!r}")
        return row

    def _own_or_admin(self, by: Actor, row: AccountRow) -> None:
        if by.account_id != row.id and email_key(by.email) != email_key(row.email):
            require(by, Action.MANAGE_ACCOUNTS)

    def list(self, by: Actor) -> builtins.list[Account]:
        require(by, Action.MANAGE_ACCOUNTS)
        return [_public(r) for r in q.list_accounts(self.store)]

    def get(self, by: Actor, email: str) -> Account:
        row = self._row(email)
        self._own_or_admin(by, row)
        return _public(row)

    def count(self) -> int:
        return q.count_accounts(self.store)

    # --- changing ----------------------------------------------------------------------

    def _check_password(self, password: str) -> None:
        least = self.settings.accounts.min_password_length
        if len(password) < least:
            raise AccountError(f"the password is too short: at least {least} characters")
        if len(password) > MAX_PASSWORD:
            raise AccountError(f"the password is too long: at most {MAX_PASSWORD} characters")

    def add(
        self, by: Actor, email: str, role: str | Role, password: str, *, name: str = ""
    ) -> Account:
        require(by, Action.MANAGE_ACCOUNTS)
        email = _check_email(email)
        role = _role(role)
        self._check_password(password)
        row = q.create_account(
            self.store,
            email=email,
            name=name.strip(),
            role=role.value,
            password_hash=passwords.hash_password(password),
            at=self.clock.now(),
        )
        if row is None:
            raise AccountError(f"there is an account for {email} already")
        self._event(by, "account_add", row.email, f"added {row.email} as {role}")
        return _public(row)

    def _keep_an_admin(self, row: AccountRow) -> None:
        if row.role == Role.ADMIN and row.active and q.count_active_admins(self.store) <= 1:
            raise AccountError(f"{row.email} is the last active admin: make another admin first")

    def set_role(self, by: Actor, email: str, role: str | Role) -> Account:
        require(by, Action.MANAGE_ACCOUNTS)
        row = self._row(email)
        new = _role(role)
        if new.value == row.role:
            return _public(row)
        if new != Role.ADMIN:
            self._keep_an_admin(row)
        q.update_account(self.store, row.id, role=new.value)
        self._event(by, "account_set_role", row.email, f"role {row.role} → {new}")
        return _public(self._row(email))

    def set_ui_language(self, by: Actor, email: str, language: str) -> Account:
        """The language of the editors' pages for ``email`` (one's own, or an admin)."""
        if language not in UI_LANGUAGES:
            known = ", ".join(UI_LANGUAGES)
            raise AccountError(f"unknown language {language!r} (known: {known})")
        row = self._row(email)
        self._own_or_admin(by, row)
        if row.ui_language != language:
            q.update_account(self.store, row.id, ui_language=language)
            self._event(by, "account_language", row.email, f"pages in {language!r}")
        return _public(self._row(email))

    def ui_language_of(self, by: Actor) -> str:
        """The language ``by``'s pages speak: the account's choice, else the
        organisation's language where the pages have it, else German."""
        row = q.get_account(self.store, by.account_id) if by.account_id else None
        chosen = row.ui_language if row is not None else None
        if chosen is not None and chosen in UI_LANGUAGES:
            return chosen
        default = self.settings.organisation.language
        return default if default in UI_LANGUAGES else "de"

    def disable(self, by: Actor, email: str) -> Account:
        """Disable an account: it cannot log in, its sessions end, its tokens stop."""
        require(by, Action.MANAGE_ACCOUNTS)
        row = self._row(email)
        if row.active:
            self._keep_an_admin(row)
            q.update_account(self.store, row.id, active=False)
            q.end_sessions_of(self.store, row.id, self.clock.now(), "disabled")
            self._event(by, "account_disable", row.email, f"disabled {row.email}")
        return _public(self._row(email))

    def enable(self, by: Actor, email: str) -> Account:
        require(by, Action.MANAGE_ACCOUNTS)
        row = self._row(email)
        if not row.active:
            q.update_account(self.store, row.id, active=True)
            self._event(by, "account_enable", row.email, f"enabled {row.email}")
        return _public(self._row(email))

    def passwd(
        self, by: Actor, email: str, password: str, *, current: str | None = None
    ) -> Account:
        """Set a new password; every session of the account ends.

        Changing one's own password through the web needs the current one (``current``):
        a session left open on a shared computer cannot take the account over.
        """
        row = self._row(email)
        self._own_or_admin(by, row)
        if current is not None and not passwords.verify_password(row.password_hash, current):
            raise AccountError("the current password is wrong")
        self._check_password(password)
        now = self.clock.now()
        q.update_account(
            self.store,
            row.id,
            password_hash=passwords.hash_password(password),
            password_changed_at=now,
        )
        q.end_sessions_of(self.store, row.id, now, "password_changed")
        self._event(by, "account_passwd", row.email, f"new password for {row.email}")
        return _public(self._row(email))

    def enroll_totp(self, by: Actor, email: str) -> str:
        """A new second-factor secret for the account; the otpauth:// URI to scan."""
        row = self._row(email)
        self._own_or_admin(by, row)
        secret = totp.new_secret()
        q.update_account(self.store, row.id, totp_secret=secret, totp_last_step=None)
        self._event(by, "account_totp", row.email, f"second factor enrolled for {row.email}")
        return totp.provisioning_uri(secret, row.email, self.settings.organisation.name)

    def drop_totp(self, by: Actor, email: str) -> Account:
        require(by, Action.MANAGE_ACCOUNTS)
        row = self._row(email)
        q.update_account(self.store, row.id, totp_secret=None, totp_last_step=None)
        self._event(by, "account_totp_off", row.email, f"second factor removed for {row.email}")
        return _public(self._row(email))

    # --- log-in --------------------------------------------------------------------------

    def authenticate(
        self,
        email: str,
        password: str,
        *,
        address: str,
        channel: str = "web",
        totp_code: str | None = None,
    ) -> Actor:
        """The actor for these credentials, or ``LoginRefused``.

        Throttled per (account, address), per address and per account
        (``pipeline.accounts.throttle``): wrong passwords from one address never make
        the right one from another address wait for more than a minute.
        """
        key = email_key(email)
        wait = self.throttle.retry_after(key, address)
        if wait:
            raise LoginRefused(
                f"Too many failed log-ins: try again in {wait} seconds.", retry_after=wait
            )
        row = q.find_account(self.store, email)
        ok = passwords.verify_password(row.password_hash if row else None, password)
        if row is None or not ok or not row.active:
            self.throttle.failed(key, address)
            if row is not None:
                self._event(
                    Actor(row.email, Role(row.role), row.name, row.id, channel, address),
                    "login_failed",
                    row.email,
                    "wrong password" if not ok else "account disabled",
                )
            raise LoginRefused(WRONG)
        if row.totp_secret:
            if not totp_code:
                raise LoginRefused("Enter the code of your authenticator app.", totp_required=True)
            step = totp.matching_step(row.totp_secret, totp_code, self.clock.now())
            if step is None:
                self.throttle.failed(key, address)
                raise LoginRefused("The code is wrong.", totp_required=True)
            if not q.use_totp_step(self.store, row.id, step):
                # used already (by its owner, or by whoever watched them type it)
                self.throttle.failed(key, address)
                raise LoginRefused(
                    "This code was used already: wait for the next one.", totp_required=True
                )
        elif (
            self.settings.accounts.require_totp_for_admins
            and row.role == Role.ADMIN
            and channel == "web"
        ):
            raise LoginRefused(
                "Admins need a second factor: enroll one with `rundbrief users totp EMAIL`."
            )
        self.throttle.succeeded(key, address)
        now = self.clock.now()
        values: dict[str, object] = {"last_login_at": now}
        if passwords.needs_rehash(row.password_hash):
            values["password_hash"] = passwords.hash_password(password)
        q.update_account(self.store, row.id, **values)
        actor = Actor(row.email, Role(row.role), row.name, row.id, channel, address)
        self._event(actor, "login", row.email, f"logged in via {channel}")
        return actor

    def session_stamp(self, email: str) -> str | None:
        """What a web session of ``email`` must have been opened with to count: changes
        with the password; None once the account is disabled or gone."""
        row = q.find_account(self.store, email)
        if row is None or not row.active:
            return None
        return row.password_hash

    def actor_for(self, email: str, channel: str = "cli", address: str = "") -> Actor:
        """The actor of an active account (the CLI's ``--as EMAIL``, the operator)."""
        row = q.find_account(self.store, email)
        if row is None:
            raise AccountError(f"no account {email!r}: add it with `rundbrief users add`")
        if not row.active:
            raise AccountError(f"the account {row.email} is disabled")
        return Actor(row.email, Role(row.role), row.name, row.id, channel, address)

    def operator(self) -> Actor:
        """The daemon's actor: ``[accounts] operator`` (which must exist and be active),
        else the built-in operator with the role approver."""
        email = self.settings.accounts.operator.strip()
        if email:
            return self.actor_for(email, channel="daemon")
        return Actor(BUILTIN_OPERATOR, Role.APPROVER, "Operator", None, "daemon", "")

    # --- sessions ------------------------------------------------------------------------

    def sessions(self, by: Actor, email: str) -> builtins.list[AccountSession]:
        row = self._row(email)
        self._own_or_admin(by, row)
        return [
            AccountSession(
                ref=s.id_hash,
                created_at=s.created_at,
                last_seen_at=s.last_seen_at,
                expires_at=s.expires_at,
                ended_at=s.ended_at,
                end_reason=s.end_reason,
                client_address=s.client_address,
                user_agent=s.user_agent,
            )
            for s in sq.sessions_of_account(self.store, row.id)
        ]

    def end_session(self, by: Actor, email: str, ref: str) -> bool:
        """End one session of ``email``'s (``ref`` from ``sessions``); whether it was one."""
        row = self._row(email)
        self._own_or_admin(by, row)
        found = sq.get_session(self.store, ref)
        if found is None or found.account_id != row.id:
            return False
        sq.end_session(self.store, ref, self.clock.now(), "ended")
        self._event(by, "session_end", row.email, "ended a session")
        return True

    # --- API tokens ----------------------------------------------------------------------

    def _token(self, row: TokenRow, email: str) -> ApiToken:
        return ApiToken(
            id=row.id,
            name=row.name,
            email=email,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )

    def create_token(
        self, by: Actor, email: str, *, name: str = "", expires_at: datetime | None = None
    ) -> tuple[str, ApiToken]:
        """A new API token of ``email``'s: the token itself (shown once, never stored)
        and its record. It acts with the account's role at the time of each request."""
        row = self._row(email)
        self._own_or_admin(by, row)
        if not row.active:
            raise AccountError(f"the account {row.email} is disabled")
        now = self.clock.now()
        if expires_at is not None and expires_at <= now:
            raise AccountError("the expiry date is in the past")
        secret = tokens.new_token()
        stored = q.create_token(
            self.store,
            token_hash=tokens.token_hash(secret),
            name=name.strip(),
            account_id=row.id,
            at=now,
            expires_at=expires_at,
        )
        self._event(by, "token_add", row.email, f"API token {stored.id} {name!r}")
        return secret, self._token(stored, row.email)

    def tokens(self, by: Actor, email: str) -> builtins.list[ApiToken]:
        row = self._row(email)
        self._own_or_admin(by, row)
        return [self._token(t, row.email) for t in q.tokens_of(self.store, row.id)]

    def revoke_token(self, by: Actor, token_id: int) -> ApiToken:
        found = q.get_token(self.store, token_id)
        owner = q.get_account(self.store, found.account_id) if found else None
        if found is None or owner is None:
            raise AccountError(f"no API token {token_id}")
        self._own_or_admin(by, owner)
        q.revoke_token(self.store, token_id, self.clock.now())
        self._event(by, "token_revoke", owner.email, f"API token {token_id} revoked")
        stored = q.get_token(self.store, token_id)
        assert stored is not None
        return self._token(stored, owner.email)

    def verify_token(self, token: str, *, address: str = "") -> Actor:
        """The actor of a bearer token, or ``LoginRefused`` (unknown, revoked, expired,
        or the account disabled): the role is the account's now, not at issue."""
        found = q.find_token(self.store, tokens.token_hash(token))
        now = self.clock.now()
        owner = q.get_account(self.store, found.account_id) if found else None
        if found is None or owner is None:
            raise LoginRefused("unknown API token")
        if found.revoked_at is not None:
            raise LoginRefused("the API token was revoked")
        if found.expires_at is not None and now >= found.expires_at:
            raise LoginRefused("the API token has expired")
        if not owner.active:
            raise LoginRefused("the account of the API token is disabled")
        q.token_used(self.store, found.id, now)
        return Actor(owner.email, Role(owner.role), owner.name, owner.id, "api", address)

    # --- the audit log ---------------------------------------------------------------------

    def _event(self, by: Actor, action: str, account: str, summary: str) -> None:
        events.record(self.store, by, action, account=account, summary=summary, clock=self.clock)
