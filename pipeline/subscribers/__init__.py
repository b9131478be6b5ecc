"""Subscribers: the workflow layer of the audience operations people do by hand.

``Subscribers(settings, store, clock)``: ``import_csv``, ``unsubscribe``, ``suppress``,
``export`` and ``erase``, each done ``by`` an ``Actor``: the role table is asked first
(``access.require``), then the audience package does the work, then one audit entry
records who did it. The entries name the subscriber by id, never by address; erasing a
person also scrubs their address from every earlier entry.

What subscribers do themselves (sign up, confirm, unsubscribe by link) stays in
``pipeline.audience`` and the web forms: there is no account behind it.
"""

from __future__ import annotations

from pipeline.subscribers.growth import Growth, ListGrowth, list_growth
from pipeline.subscribers.operations import Subscribers, address_ref

__all__ = ["Growth", "ListGrowth", "Subscribers", "address_ref", "list_growth"]
