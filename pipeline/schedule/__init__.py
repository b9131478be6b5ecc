"""Schedule: the daemon (``rundbrief run``) that collects, composes, sends and releases
press mailings at their send time on its own; an adapter over the workflow layer like the CLI.

Public API (the modules behind it are internal):

- ``Daemon(settings, store, clock=...).run_forever()``: APScheduler 3 with the SQLAlchemy
  job store; SIGTERM/SIGINT finish the batch in flight and exit 0.
- ``job_plan(settings, store, now=...)`` and ``upcoming(...)``: the jobs and their next
  runs, for ``rundbrief jobs``.
- ``collect_status(settings, store, now=...)``: what ``rundbrief status`` shows.

Inside: ``jobs`` (each job callable directly with a ``JobContext``), ``sending`` (due,
late, start or join a send under the one lease of ``pipeline.deliver``, report),
``periods`` (cron arithmetic across DST changes). Every operation on a mailing goes
through ``pipeline.mailings``; operator notifications live in ``pipeline.notify``.

The names load their module on first use (PEP 562): ``rundbrief status`` needs neither
APScheduler nor the jobs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.schedule.daemon import Daemon
    from pipeline.schedule.plan import job_plan, upcoming
    from pipeline.schedule.status import collect_status

_MODULE_OF = {
    "Daemon": "daemon",
    "collect_status": "status",
    "job_plan": "plan",
    "upcoming": "plan",
}

__all__ = ["Daemon", "collect_status", "job_plan", "upcoming"]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
