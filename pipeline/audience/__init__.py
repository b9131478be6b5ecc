"""Audience: subscribers, lists, consent, unsubscribe tokens and suppressions.

Public API (contract shared with deliver/, web/, render/):

- ``iter_recipients(store, lists, batch_size=...)``: active, unsuppressed recipients of
  the lists, one per address, in keyset batches (memory stays flat).
- ``tokens``: HMAC-signed unsubscribe/preferences tokens per subscriber and list.
- ``is_suppressed`` / ``suppress``: checked whenever recipients are chosen.
"""
