"""The stored render of a mailing: what preview, test copy and the real send use.

Light on purpose (no template engine, no MJML, no CSS inliner): a send of a mailing
rendered at approval imports only this.
"""

from __future__ import annotations

from pipeline.render import RenderedMailing
from pipeline.store import Store
from pipeline.store import renders as store_renders


def load_rendered(store: Store, mailing_id: int, language: str) -> RenderedMailing | None:
    """The stored render of one language (what preview, test and real send use)."""
    row = store_renders.load_render(store, mailing_id, language)
    if row is None:
        return None
    return RenderedMailing(
        mailing_id=mailing_id,
        language=language,
        subject=row["subject"],
        preheader=row["preheader"],
        html=row["html"],
        text=row["text"],
    )
