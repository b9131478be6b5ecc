"""The one exception tree of Rundbrief.

    RundbriefError            root: the CLI prints its message on one line and exits 1
     ├── ConfigError          config.toml or an environment variable is wrong (exit 2)
     ├── NotReadyError        valid, but not fit to mail real people (``rundbrief check``)
     ├── StoreError           the database cannot be opened or migrated
     ├── FeedError            one feed could not be fetched or parsed (carries the feed)
     ├── WorkflowError        an operation on a mailing is not possible now
     │    ├── ComposeError     a draft cannot be made or edited (unknown item, empty subject)
     │    │    ├── TimesRefused  a send time or embargo against the rule (past, out of order)
     │    │    └── SegmentRefused  a segment cannot be saved or used (names field, column)
     │    ├── TransitionError  the mailing's state does not allow this step (409 on the web)
     │    ├── NotDueError      sent before its send time (names the time in local time)
     │    └── ApprovalRefused  the approval policy says no
     ├── RenderError          templates, MJML, size or accessibility checks failed
     ├── AudienceError        subscriber data, tokens, CSV import
     │    └── SegmentError     a segment expression cannot be read (names the column)
 ├── AccountError         an account cannot be made or changed as asked
 │    └── LoginRefused     wrong credentials, a disabled account, throttled, no TOTP code
 ├── PermissionDenied     the actor's role does not allow the action
 │    └── RecipientNotAllowed  a test copy to an address outside the organisation
     ├── DeliveryError        outbox and transports
     │    ├── TransientDeliveryError   try again later (SMTP 4xx, HTTP 429/5xx, timeouts)
     │    └── PermanentDeliveryError   do not try again (SMTP 5xx, HTTP 4xx)
     └── ScheduleError        the daemon's jobs

Third-party exceptions are translated into these at one boundary per stage and chained
(``raise FeedError(...) from exc``) so the cause stays visible in logs.
"""

from __future__ import annotations

from datetime import datetime


class RundbriefError(Exception):
    """Root of every error Rundbrief expects and can explain to a user."""

    exit_code = 1


class ConfigError(RundbriefError):
    """The configuration is invalid: the message names the file, the key and the expectation."""

    exit_code = 2


class NotReadyError(RundbriefError):
    """The configuration is valid but would send mail that people or their providers
    refuse (a loopback ``base_url``, no imprint, no signing secret ...).

    The message is the list ``rundbrief check`` prints, one finding per line, so the
    CLI prints it as it is (``multiline``); ``findings`` keeps them for a program.
    """

    multiline = True

    def __init__(self, message: str, *, findings: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings


class StoreError(RundbriefError):
    """The store cannot be opened, migrated or written."""


class FeedError(RundbriefError):
    """One feed failed; ``feed`` names it so a summary can show which."""

    def __init__(self, message: str, *, feed: str | None = None) -> None:
        super().__init__(message)
        self.feed = feed


class WorkflowError(RundbriefError):
    """An operation on a mailing is not possible now; ``mailing_id`` names the mailing."""

    def __init__(self, message: str, *, mailing_id: int | None = None) -> None:
        super().__init__(message)
        self.mailing_id = mailing_id


class ComposeError(WorkflowError):
    """A mailing cannot be composed or edited as asked (unknown item, empty subject …);
    ``field`` names the input at fault, where there is one (``title``, ``embargo`` …)."""

    def __init__(self, message: str, *, mailing_id: int | None = None, field: str = "") -> None:
        super().__init__(message, mailing_id=mailing_id)
        self.field = field


class TimesRefused(ComposeError):
    """A send time or embargo that does not fit the rule (``mailings.times``).

    ``problem``: ``no_zone``, ``past``, ``before_send`` (embargo before the send time),
    ``passed`` (the embargo ran out before approval) or ``newsletter`` (no embargo there);
    ``at`` the time at fault and ``other`` the one it clashes with, so an adapter can say
    it in its own language and format."""

    def __init__(
        self,
        message: str,
        *,
        field: str,
        problem: str,
        at: datetime | None = None,
        other: datetime | None = None,
        mailing_id: int | None = None,
    ) -> None:
        super().__init__(message, mailing_id=mailing_id, field=field)
        self.problem = problem
        self.at = at
        self.other = other


class SegmentRefused(ComposeError):
    """A segment that cannot be saved, deleted or counted as asked (a bad or taken name,
    a condition that cannot be read). ``field`` is ``name`` or ``expression``; for a
    condition that cannot be read, ``column`` (1-based) is where it went wrong and
    ``reason`` the parser's words without the column, so a form can point at it."""

    def __init__(
        self, message: str, *, field: str, column: int | None = None, reason: str = ""
    ) -> None:
        super().__init__(message, field=field)
        self.column = column
        self.reason = reason or message


class FollowUpRefused(ComposeError):
    """A follow-up that the rules do not allow (``mailings.followups``).

    ``problem``: ``newsletter``, ``follow_up`` (the original is a follow-up itself),
    ``not_delivered``, ``withdrawn``, ``no_embargo``, ``embargo_over`` (a lift too late),
    ``no_text``, ``kind`` (unknown kind) or ``audience`` (its lists or segment
    changed), so an adapter can say it in its language."""

    def __init__(
        self, message: str, *, field: str, problem: str, mailing_id: int | None = None
    ) -> None:
        super().__init__(message, mailing_id=mailing_id, field=field)
        self.problem = problem


class PressFileError(ComposeError):
    """A press kit file refused: a broken image, an empty or duplicate name, a mailing
    that is no longer editable, a file that is missing or altered in the folder."""


class TransitionError(WorkflowError):
    """The mailing's status does not allow the step (``current`` → ``wanted``)."""

    def __init__(
        self, message: str, *, mailing_id: int | None = None, current: str = "", wanted: str = ""
    ) -> None:
        super().__init__(message, mailing_id=mailing_id)
        self.current = current
        self.wanted = wanted


class NotDueError(WorkflowError):
    """A send was asked for before the mailing's send time."""


class ApprovalRefused(WorkflowError):
    """The approval policy does not let this person approve this mailing."""


class PermissionDenied(RundbriefError):
    """The actor's role does not allow the action (``action``, ``role``): a 403 on the
    web and the API, one line and exit status 1 on the CLI."""

    def __init__(self, message: str, *, action: str = "", role: str = "") -> None:
        super().__init__(message)
        self.action = action
        self.role = role


class RecipientNotAllowed(PermissionDenied):
    """A test copy to an address outside the organisation (``mailings.test_recipients``)."""


class TestCopyLimit(PermissionDenied):
    """The actor has sent today's allowance of test copies (``limit``); more are possible
    again at ``resets_at`` (``mailings.test_recipients``)."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, message: str, *, limit: int, resets_at: datetime, role: str = "") -> None:
        super().__init__(message, action="test_copy", role=role)
        self.limit = limit
        self.left = 0
        self.resets_at = resets_at


class TestPersonRefused(WorkflowError):
    """A test copy "as" an address that would not get the mailing (``person``)."""

    __test__ = False

    def __init__(self, message: str, *, mailing_id: int, person: str) -> None:
        super().__init__(message, mailing_id=mailing_id)
        self.person = person


class RenderError(RundbriefError):
    """A mailing cannot be rendered into an e-mail that meets our standards."""


class AudienceError(RundbriefError):
    """Subscriber data, tokens or list imports are invalid."""


class SegmentError(AudienceError):
    """A segment expression that cannot be read (``pipeline.segments``): ``column``
    (1-based) is where in ``text`` it went wrong."""

    def __init__(self, message: str, *, column: int, text: str = "") -> None:
        self.column = column
        self.text = text
        self.reason = message
        super().__init__(f"column {column}: {message}")


class AccountError(RundbriefError):
    """An account cannot be made or changed as asked (a taken address, an unknown
    account, a short password, the last admin)."""


class LoginRefused(AccountError):
    """A log-in (or an API token) was refused. ``retry_after`` (seconds) is set when
    the client is throttled; ``totp_required`` when only the second factor is missing
    or wrong. The message never says whether the account exists."""

    def __init__(self, message: str, *, retry_after: int = 0, totp_required: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.totp_required = totp_required


class DeliveryError(RundbriefError):
    """A mailing cannot be delivered."""


class TransientDeliveryError(DeliveryError):
    """The transport refused for now; the delivery is retried later.

    ``retry_after`` is the delay in seconds the peer asked for, when it said one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """The transport refused for good; the delivery fails without retry."""


class ScheduleError(RundbriefError):
    """A scheduled job cannot be set up or run."""
