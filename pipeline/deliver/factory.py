"""Build the transport named in ``[delivery] transport``, and the DKIM signer.

This is the one place in ``deliver`` that reads the whole ``Settings``: it takes the
section a transport uses and the secret that section names, and hands the transport just
those (``smtp.from_section(settings.smtp, password)``, a provider's
``from_section(its settings, api key, sender_domain=...)``, a Maildir its resolved path).

``smtp`` and ``maildir`` are modules of this package; every HTTP provider comes from the
registry (``deliver.providers.PROVIDERS``). A transport's module is imported only when
it is configured, so a provider's dependencies and wire format never load for the others.
Every transport is a context manager: ``with transport_from_settings(s) as t: ...``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from pipeline.config import Settings
from pipeline.deliver import Transport
from pipeline.deliver.providers import PROVIDERS, load, provider_settings
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.deliver.dkim import DkimSigner

# "module:attribute": what builds a local transport from its part of the configuration.
LOCAL = {
    "smtp": "pipeline.deliver.smtp:from_section",
    "maildir": "pipeline.deliver.maildir:MaildirTransport",
}


def transport_from_settings(settings: Settings) -> Transport:
    """The configured transport, ready to send (connections are opened lazily)."""
    name = settings.delivery.transport
    entry = PROVIDERS.get(name)
    target = entry.transport if entry is not None else LOCAL.get(name)
    if target is None:
        raise ConfigError(f"{settings.source}: delivery.transport: unknown transport {name!r}")
    factory = _load(settings, name, target)
    if name == "smtp":
        cfg = settings.smtp
        password = (
            settings.secret(cfg.password_env, key="smtp.password_env") if cfg.username else ""
        )
        return cast(Transport, factory(cfg, password))
    if name == "maildir":
        return cast(Transport, factory(settings.path(settings.delivery.maildir)))
    config = provider_settings(settings, name)
    api_key = settings.secret(config.api_key_env, key=f"{name}.api_key_env")
    return cast(Transport, factory(config, api_key, sender_domain=settings.sender.message_domain))


def _load(settings: Settings, name: str, target: str) -> Any:
    try:
        return load(target)
    except ModuleNotFoundError as exc:
        if exc.name is None or not target.startswith(exc.name):
            raise
        raise ConfigError(
            f"{settings.source}: delivery.transport: {name!r} is not available in this version"
        ) from exc


def signer_from_settings(settings: Settings) -> DkimSigner | None:
    """The configured DKIM signer, or None when ``[dkim] enabled`` is false: the key file
    is read here, the signer gets ``[dkim]`` and the key's bytes."""
    cfg = settings.dkim
    if not cfg.enabled:
        return None
    # dkimpy loads only where mail is signed.
    from pipeline.deliver.dkim import signer_from_section

    if not cfg.key_file:
        raise ConfigError(f"{settings.source}: dkim.key_file: required when dkim.enabled")
    path = settings.path(cfg.key_file)
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{settings.source}: dkim.key_file: cannot read {path}: {exc.strerror}"
        ) from exc
    return signer_from_section(
        cfg,
        key,
        domain=cfg.domain or settings.sender.message_domain,
        source=settings.source,
        origin=str(path),
    )
