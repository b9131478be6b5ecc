"""DKIM signing (dkimpy) with an RSA or Ed25519 key from the file named in ``[dkim]``.

The signature covers the headers a receiver and a list-unsubscribe client rely on:
From, To, Subject, Date, Message-ID, In-Reply-To and References (a follow-up's
thread), Reply-To, List-Id, List-Unsubscribe and
List-Unsubscribe-Post (RFC 8058 requires both List-Unsubscribe headers to be signed),
plus the MIME headers. Canonicalisation is relaxed/relaxed so that folding changes on
the way do not break it.

Key files: RSA as PEM (``-----BEGIN RSA PRIVATE KEY-----`` or PKCS#8), Ed25519 as the
base64 seed that ``dknewkey --ktype ed25519`` writes. Ed25519 signing must pass
``signature_algorithm=b"ed25519-sha256"``; without it dkimpy looks for an RSA key and
reports a misleading "Private key not found".
"""

from __future__ import annotations

import re

import dkim

from pipeline.config import Dkim
from pipeline.errors import ConfigError, DeliveryError

SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"Reply-To",
    b"List-Id",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"Feedback-ID",
    b"MIME-Version",
    b"Content-Type",
)


class DkimSigner:
    """Signs finished messages; made once per process from the configured key."""

    def __init__(self, *, selector: str, domain: str, key: bytes, algorithm: str) -> None:
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("ascii")
        self.key = key
        self.algorithm = algorithm.encode("ascii")

    def sign(self, data: bytes) -> bytes:
        """Return ``data`` with a DKIM-Signature header in front."""
        present = _present_headers(data)
        include = [h for h in SIGNED_HEADERS if h.lower() in present]
        try:
            signature = dkim.sign(
                data,
                self.selector,
                self.domain,
                self.key,
                canonicalize=(b"relaxed", b"relaxed"),
                signature_algorithm=self.algorithm,
                include_headers=include,
                linesep=b"\r\n",
            )
        except dkim.DKIMException as exc:
            raise DeliveryError(f"DKIM signing failed: {exc}") from exc
        return bytes(signature) + data


def _present_headers(data: bytes) -> set[bytes]:
    head = data.split(b"\r\n\r\n", 1)[0]
    return {m.group(1).lower() for m in re.finditer(rb"^([A-Za-z0-9-]+):", head, re.M)}


def signer_from_section(
    cfg: Dkim, key: bytes, *, domain: str, source: str = "[dkim]", origin: str = "the key"
) -> DkimSigner:
    """The signer of a ``[dkim]`` section with its key material (the key file's bytes,
    read by ``deliver.factory``); ``domain`` is ``cfg.domain`` or the sender's. Errors
    name ``source`` (the configuration file) and ``origin`` (where the key came from).
    The key is tried now, so a bad one fails at start, not on the first recipient."""
    if not cfg.selector:
        raise ConfigError(f"{source}: dkim.selector: required when dkim.enabled")
    where = f"{source}: dkim.key_file: {origin}"
    key = key.strip()
    is_pem = key.startswith(b"-----BEGIN")
    if cfg.algorithm == "rsa-sha256" and not is_pem:
        raise ConfigError(
            f"{where} is not a PEM RSA key "
            "(for an Ed25519 seed set dkim.algorithm = 'ed25519-sha256')"
        )
    if cfg.algorithm == "ed25519-sha256" and is_pem:
        raise ConfigError(
            f"{where} is PEM; Ed25519 keys are the base64 "
            "seed that `dknewkey --ktype ed25519` writes"
        )
    signer = DkimSigner(selector=cfg.selector, domain=domain, key=key, algorithm=cfg.algorithm)
    try:
        signer.sign(b"From: a@b.example\r\nSubject: probe\r\n\r\nprobe\r\n")
    except DeliveryError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return signer
