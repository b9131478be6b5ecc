"""Rundbrief: a newsletter and press distribution pipeline.

Stages (each a subpackage or module, each usable alone from the CLI):

    collect/   feeds → items              (pipeline.collect.collect)
    compose    items → mailing drafts     (pipeline.compose)
    render/    mailing → HTML + text      (pipeline.render)
    audience/  CSV, opt-in, unsubscribe   (pipeline.audience)
    deliver/   outbox → transport         (pipeline.deliver)
    web/       editors' and public pages  (pipeline.web)
    schedule   the daemon                 (pipeline.schedule)

Every stage reads from and writes to the store (pipeline.store); stages never call
each other's internals.
"""

__version__ = "0.1.0"
