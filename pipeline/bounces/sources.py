"""Where bounce reports are read from: a Maildir, an mbox file or an IMAP mailbox.

    maildir:PATH                      messages in new/ and cur/ without the S (seen) flag
    mbox:PATH                         messages without the R (read) status flag
    imaps://user@host[:port]/FOLDER   UNSEEN messages over TLS (password from the env
    imap://user@host[:port]/FOLDER    variable named in [bounces] password_env; plain
                                      IMAP upgrades with STARTTLS when offered)

A message is marked (seen/read) only after it was handled without error, so a crash
re-reads it next time; ``bounce_events.source_id`` makes that second reading count once.
Relative paths resolve against the configuration file's folder.
"""

from __future__ import annotations

import imaplib
import logging
import mailbox
import re
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline.config import Settings
from pipeline.errors import ConfigError, DeliveryError

log = logging.getLogger(__name__)

Handler = Callable[[bytes], None]


class BounceSourceError(DeliveryError):
    """The bounce mailbox cannot be opened or read (the message says which and why)."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # maildir | mbox | imap | imaps
    path: str = ""
    host: str = ""
    port: int = 0
    user: str = ""
    folder: str = "INBOX"

    def describe(self) -> str:
        if self.kind in ("maildir", "mbox"):
            return f"{self.kind}:{self.path}"
        return f"{self.kind}://{self.user}@{self.host}:{self.port}/{self.folder}"


def parse_source(text: str) -> SourceSpec:
    """``maildir:PATH``, ``mbox:PATH`` or ``imap(s)://user@host[:port]/FOLDER``."""
    value = text.strip()
    for kind in ("maildir", "mbox"):
        if value.startswith(kind + ":") and not value.startswith(kind + "://"):
            path = value[len(kind) + 1 :]
            if not path:
                raise ConfigError(f"bounce source {text!r}: the path is missing")
            return SourceSpec(kind=kind, path=path)
    if value.startswith(("imap://", "imaps://")):
        url = urlsplit(value)
        if not url.hostname or not url.username:
            raise ConfigError(f"bounce source {text!r}: expected imaps://user@host[:port]/FOLDER")
        if url.password:
            raise ConfigError(
                f"bounce source {text!r}: no password in the URL; name its environment "
                "variable in [bounces] password_env"
            )
        try:
            port = url.port or (993 if url.scheme == "imaps" else 143)
        except ValueError as exc:
            raise ConfigError(f"bounce source {text!r}: bad port") from exc
        folder = unquote(url.path.lstrip("/")) or "INBOX"
        return SourceSpec(
            kind=url.scheme, host=url.hostname, port=port, user=unquote(url.username), folder=folder
        )
    raise ConfigError(
        f"bounce source {text!r}: expected maildir:PATH, mbox:PATH or imaps://user@host/FOLDER"
    )


def read_source(spec: SourceSpec, settings: Settings, handle: Handler) -> int:
    """Hand every unprocessed message to ``handle`` and mark it; return how many."""
    if spec.kind == "maildir":
        return _read_maildir(settings.path(spec.path), handle)
    if spec.kind == "mbox":
        return _read_mbox(settings.path(spec.path), handle)
    password = settings.secret(settings.bounces.password_env, key="bounces.password_env")
    return _read_imap(spec, password, handle)


def _read_maildir(path: Path, handle: Handler) -> int:
    if not (path / "cur").is_dir() or not (path / "new").is_dir():
        raise BounceSourceError(f"maildir:{path}: not a Maildir (no cur/ and new/ inside)")
    box = mailbox.Maildir(str(path), factory=None, create=False)
    done = 0
    for key in sorted(box.keys()):
        try:
            message = box.get_message(key)
        except (KeyError, FileNotFoundError):
            continue  # taken by another reader meanwhile
        if "S" in message.get_flags():
            continue
        handle(box.get_bytes(key))
        # cur/ with the S flag: what a mail client does with a message it has shown
        message.set_subdir("cur")
        message.add_flag("S")
        box[key] = message
        done += 1
    return done


def _read_mbox(path: Path, handle: Handler) -> int:
    if not path.is_file():
        raise BounceSourceError(f"mbox:{path}: no such file")
    box = mailbox.mbox(str(path), factory=None, create=False)
    try:
        box.lock()
    except mailbox.ExternalClashError as exc:
        raise BounceSourceError(f"mbox:{path}: locked by another program") from exc
    done = 0
    try:
        for key in list(box.keys()):
            message = box.get_message(key)
            if "R" in message.get_flags():
                continue
            try:
                handle(box.get_bytes(key))
            except Exception:
                box.flush()  # keep the marks of what was handled before the failure
                raise
            message.set_flags("RO")
            box[key] = message
            done += 1
        box.flush()
    finally:
        box.unlock()
        box.close()
    return done


@contextmanager
def _imap(spec: SourceSpec, password: str) -> Iterator[imaplib.IMAP4]:
    where = spec.describe()
    try:
        if spec.kind == "imaps":
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                spec.host, spec.port, ssl_context=ssl.create_default_context(), timeout=60
            )
        else:
            client = imaplib.IMAP4(spec.host, spec.port, timeout=60)
            if "STARTTLS" in client.capabilities:
                client.starttls(ssl_context=ssl.create_default_context())
            else:
                log.warning("IMAP without TLS", extra={"source": where})
        _login(client, spec.user, password)
    except (OSError, imaplib.IMAP4.error, UnicodeError) as exc:
        raise BounceSourceError(f"{where}: cannot log in: {exc}") from exc
    try:
        yield client
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _login(client: imaplib.IMAP4, user: str, password: str) -> None:
    """LOGIN for ASCII credentials; AUTHENTICATE PLAIN (UTF-8) otherwise, because
    imaplib's LOGIN cannot send a password such as "Pässwort"."""
    if (user + password).isascii():
        client.login(user, password)
        return
    if "AUTH=PLAIN" not in client.capabilities:
        raise imaplib.IMAP4.error("the server offers no AUTH=PLAIN for a non-ASCII password")
    credentials = b"\0" + user.encode() + b"\0" + password.encode()
    client.authenticate("PLAIN", lambda _challenge: credentials)


def _read_imap(spec: SourceSpec, password: str, handle: Handler) -> int:
    where = spec.describe()
    done = 0
    with _imap(spec, password) as client:
        try:
            status, _ = client.select(_quote(spec.folder))
            if status != "OK":
                raise BounceSourceError(f"{where}: no folder {spec.folder!r}")
            status, data = client.uid("SEARCH", "UNSEEN")
            uids = data[0].split() if status == "OK" and data and data[0] else []
            for uid in uids:
                status, parts = client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
                body = next((p[1] for p in parts if isinstance(p, tuple) and len(p) > 1), None)
                if status != "OK" or not isinstance(body, bytes):
                    log.warning("IMAP message unreadable", extra={"uid": uid.decode()})
                    continue
                handle(body)
                client.uid("STORE", uid.decode(), "+FLAGS", r"(\Seen)")
                done += 1
        except (OSError, imaplib.IMAP4.error) as exc:
            raise BounceSourceError(f"{where}: {exc}") from exc
    return done


def _quote(folder: str) -> str:
    return (
        folder if re.fullmatch(r"[A-Za-z0-9._/-]+", folder) else '"' + folder.replace('"', "") + '"'
    )
