"""Bounces and complaints: read reports, match them to deliveries, suppress addresses.

    sources (Maildir, mbox, IMAP) ─▶ dsn.parse_report ─┐
    web webhooks (Postmark, Mailgun) ─▶ webhook_events ─┴▶ process.BounceProcessor
                                                            ├ match (VERP, Message-ID, recipient)
                                                            ├ audience.suppress (hard, complaint,
                                                            │   too many soft)
                                                            └ store.bounces (bounce_events)

``verp`` makes and reads the ``bounces+ID-MAC@bounce_domain`` return paths the message
builder puts on each delivery. ``dsn`` and ``webhook_events`` are pure.
"""
