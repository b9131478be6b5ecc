"""Schedule: the daemon (``rundbrief run``) that collects, composes, sends and releases
embargoed press mailings on its own.

Public API (one screen):

- ``periods``: pure time arithmetic in the organisation's time zone: ``next_fire`` /
  ``previous_fire`` / ``fires_between`` for cron expressions across DST changes (the
  period keys are the workflow's: ``pipeline.mailings.newsletter_key``).
- Sends go through the one lease of ``pipeline.deliver`` (``Lease``): the daemon starts
  or joins a send like ``rundbrief send`` and ``worker`` do; one newsletter per period is
  the store's unique ``period_key``; ``sending.is_late`` is the lateness rule.
- ``jobs``: the job functions, each callable directly with a ``JobContext`` (settings,
  store, clock; ``context``): ``collect_job``, ``compose_job``, ``send_newsletter_job``,
  ``release_press_job``, ``bounces_job``, ``sync_job`` (catch-up every minute); the
  sending rules (due, late, claim, send, report) are in ``sending``; every operation on
  a mailing (compose, approve, the lifecycle) goes through ``pipeline.mailings``.
- ``daemon``: ``Daemon(settings, store).run_forever()`` (APScheduler 3 with the SQLAlchemy
  job store; SIGTERM/SIGINT finish the batch in flight and exit 0); ``plan``:
  ``job_plan`` and ``upcoming`` for ``rundbrief jobs``.
- ``status``: ``collect_status(settings, store, now=...)`` for ``rundbrief status``.

Operator notifications live in ``pipeline.notify``.
"""
