"""Mailings: the workflow layer, every operation and rule on a mailing.

The CLI, the web app and the daemon are thin adapters over this package; the store
below it is persistence only and the renderer is pure.

Public API (one screen):

- ``Workflow(settings, store, clock, policy=…, transport_factory=…)``: every change is
  done ``by=`` an ``access.Actor``, checked against the role table and audited; compose
  (``compose_newsletter``, ``compose_press``, ``compose_press_text``,
  ``compose_followup``: a correction, update, lift or withdrawal of a sent press release
  to exactly its delivered set, see ``followups``), edit (``edit``, ``add_item``,
  ``restore_item``, ``drop_item``, ``move_item``, ``reorder``, ``set_send_at``,
  ``clear_send_at``, ``rerender``), decide (``approve``, ``schedule``, ``cancel``), send
  (``send_now``, ``pause``, ``resume``, ``send_test_copy``) and look (``get``, ``list_mailings``,
  ``renders``, ``overview``, ``preview``, ``distribution_record``, ``follow_ups``,
  ``withdrawal``).
- ``WrittenRelease``: a press release written here (title, Markdown text, optional
  link, photo with description and credit) for ``compose_press_text``.
- ``MailingOverview``: the frozen summary ``mailing show`` and the editor page show.
- ``ApprovalPolicy``: who may approve what (default: ``FourEyes(settings)``, the
  ``[approval]`` rules; ``anyone_may_approve`` lets every approver).
- ``lifecycle``: the rules over the one table of steps (``models.MAILING_STEPS``).
- ``newsletter_key(instant, tz, period)``: the one-newsletter-per-period key (``Period``).
- ``reorder`` (pure): the one rule for dropping and moving items.
- ``record``: the distribution record's lines (``RecordEntry``), as JSON and as CSV
  safe for spreadsheets (``write_csv``).
- ``renders_of``: the one "stored render, else render the draft now".
- ``Segments(settings, store, clock)``: the named segments (``[segments]`` and the saved
  ones) with their counts per list; ``save``/``delete`` saved ones (``saved_segments``).
- ``public.published(mailing, now)``: the one rule of what the public archive and the
  public API show (sent, embargo passed); ``Workflow.published_mailings`` and
  ``find_published`` use it.
"""

from __future__ import annotations

from pipeline.mailings import lifecycle, public, record
from pipeline.mailings.compose import (
    NewsletterPlan,
    Period,
    newsletter_key,
    period_key,
    settings_key,
)
from pipeline.mailings.items import reorder
from pipeline.mailings.numbers import MailingNumbers, numbers
from pipeline.mailings.overview import MailingOverview
from pipeline.mailings.policy import ApprovalPolicy, FourEyes, anyone_may_approve
from pipeline.mailings.preview import Preview, sample_for, write_preview
from pipeline.mailings.record import RecordEntry
from pipeline.mailings.renders import render_for, renders_of
from pipeline.mailings.saved_segments import NamedSegment, SegmentCount, Segments
from pipeline.mailings.workflow import Workflow
from pipeline.mailings.written import WrittenRelease

__all__ = [
    "ApprovalPolicy",
    "FourEyes",
    "MailingNumbers",
    "MailingOverview",
    "NamedSegment",
    "NewsletterPlan",
    "Period",
    "Preview",
    "RecordEntry",
    "SegmentCount",
    "Segments",
    "Workflow",
    "WrittenRelease",
    "anyone_may_approve",
    "lifecycle",
    "newsletter_key",
    "numbers",
    "period_key",
    "public",
    "record",
    "render_for",
    "renders_of",
    "reorder",
    "sample_for",
    "settings_key",
    "write_preview",
]
