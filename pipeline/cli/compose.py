"""``rundbrief compose newsletter``, ``compose press`` and ``compose followup``: drafts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pipeline.cli.context import actor, app_context
from pipeline.cli.mailings import (
    JSON,
    local_time,
    parse_send_at,
    parse_when,
    print_unknown_attributes,
    read_text_file,
    segment_line,
    workflow,
)
from pipeline.cli.output import console, emit_json

if TYPE_CHECKING:
    from pipeline.mailings import Workflow
    from pipeline.models import Mailing

compose_app = typer.Typer(
    help="Make a draft: the newsletter of this week, or a press release from one item.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add ``compose newsletter`` and ``compose press`` to the app."""
    app.add_typer(compose_app, name="compose")


SEGMENT = typer.Option(
    None, "--segment", help="Only the people of the lists in this segment ([segments])."
)
WHERE = typer.Option(
    None,
    "--where",
    help='Only the people of the lists for whom this holds: region = "Bayern" (see docs/press.md).',
)


@compose_app.command("newsletter")
def compose_newsletter_cmd(
    ctx: typer.Context,
    segment: str = SEGMENT,
    where: str = WHERE,
    as_json: bool = JSON,
) -> None:
    """Make this week's draft newsletter from the items not yet sent.

    Takes the eligible items of the backfill window (collect.backfill_days) that are not
    in a newsletter already sent or approved, newest first, up to compose.max_items, in
    sections by kind. When nothing is new, or this week already has a newsletter, it
    makes nothing, says so and exits 0. --segment or --where narrows the lists.

    Example: rundbrief compose newsletter --json
    """

    state = app_context(ctx)
    flow = workflow(state)
    plan = flow.plan_newsletter()
    mailing = None
    if not plan.reason:
        mailing = flow.compose_newsletter(by=actor(state), segment=segment, where=where)
    if as_json:
        emit_json(
            {
                "mailing": mailing.id if mailing else None,
                "items": len(mailing.item_ids) if mailing else 0,
                "subject": mailing.subject if mailing else "",
                "period": plan.period_key,
                "reason": plan.reason or None if mailing is None else None,
            }
        )
        return
    if mailing is None:
        console.print(f"No newsletter made: {plan.reason or 'this period was just composed'}.")
        return
    console.print(
        f"Draft newsletter [bold]{mailing.id}[/bold] ({plan.period_key}): "
        f"{len(mailing.item_ids)} items, subject “{mailing.subject}”."
    )
    print_audience(flow, mailing)
    console.print(
        f"Next: rundbrief preview {mailing.id}  ·  rundbrief edit {mailing.id} …  ·  "
        f"rundbrief approve {mailing.id}"
    )


@compose_app.command("press")
def compose_press_cmd(
    ctx: typer.Context,
    item_id: int = typer.Argument(
        None, help="The item to send (see `rundbrief items`); or --title and --text-file."
    ),
    title: str = typer.Option(None, "--title", help="The title of a release written here."),
    text_file: Path = typer.Option(
        None, "--text-file", help="Its text as a Markdown file ('-' reads stdin)."
    ),
    link: str = typer.Option("", "--link", help="Where it is on the web (optional)."),
    image_url: str = typer.Option("", "--image-url", help="A photo (https)."),
    image_alt: str = typer.Option("", "--image-alt", help="What the photo shows."),
    image_credit: str = typer.Option("", "--image-credit", help="The photo's credit."),
    send_at: str = typer.Option(
        None,
        "--send-at",
        help="When it goes out: 2026-06-25T08:00 (local time), or 'now' (on approval).",
    ),
    embargo: str = typer.Option(
        None,
        "--embargo",
        help="The Sperrfrist: may be published from 2026-06-25T10:00 on (local time), "
        "never before the send time.",
    ),
    segment: str = SEGMENT,
    where: str = WHERE,
    as_json: bool = JSON,
) -> None:
    """Make a press release draft from one item, or from a text written here.

    A release written here (--title and --text-file) becomes an item of its own that
    newsletters do not pick up. --segment NAME (from [segments]) or --where CONDITION
    sends it only to those people of the press lists; the draft says how many they are.

    A release goes out at --send-at (default: as soon as it is approved); with
    --embargo, journalists get it then with the Sperrfrist in subject and text.

    Example: rundbrief compose press 42 --send-at 2026-06-25T08:00 --embargo 2026-06-25T10:00 --segment bayern
    """
    from pipeline.errors import ComposeError
    from pipeline.mailings import WrittenRelease

    state = app_context(ctx)
    when = parse_when(embargo, state) if embargo else None
    send = parse_send_at(send_at, state) if send_at else None
    written = title is not None or text_file is not None
    if (item_id is None) == (not written):
        raise ComposeError("give an item id, or --title and --text-file (not both)")
    if item_id is not None:
        mailing = workflow(state).compose_press(
            item_id, send_at=send, embargo=when, by=actor(state), segment=segment, where=where
        )
    else:
        if not title or text_file is None:
            raise ComposeError("a release written here needs --title and --text-file")
        text = read_text_file(text_file)
        release = WrittenRelease(
            title=title,
            text_md=text,
            link=link,
            image_url=image_url,
            image_alt=image_alt,
            image_credit=image_credit,
        )
        mailing = workflow(state).compose_press_text(
            release, send_at=send, embargo=when, by=actor(state), segment=segment, where=where
        )
    if as_json:
        emit_json(
            {
                "mailing": mailing.id,
                "items": 1,
                "subject": mailing.subject,
                "segment": mailing.segment_name,
                "where": mailing.segment_where,
                "recipients": workflow(state).overview(mailing.id).recipients,
            }
        )
        return
    line = f"Draft press release [bold]{mailing.id}[/bold]: “{mailing.subject}”"
    line += (
        f", sent at {local_time(mailing.send_at, state)}"
        if mailing.send_at
        else ", sent when approved"
    )
    if mailing.embargo_at:
        line += f", embargo (Sperrfrist) {local_time(mailing.embargo_at, state)}"
    console.print(line + ".")
    print_audience(workflow(state), mailing)


@compose_app.command("followup")
def compose_followup_cmd(
    ctx: typer.Context,
    original_id: int = typer.Argument(..., help="The press release it follows (sent)."),
    kind: str = typer.Option(
        ...,
        "--kind",
        help="correction (Berichtigung), update (Aktualisierung), lift (Sperrfrist "
        "aufgehoben) or withdraw (Rückzug).",
    ),
    text_file: Path = typer.Option(
        None,
        "--text-file",
        help="Its text as a Markdown file ('-' reads stdin); lift and withdraw have a default.",
    ),
    title: str = typer.Option(None, "--title", help="Its title (default: the original's)."),
    send_at: str = typer.Option(
        None,
        "--send-at",
        help="When it goes out: 2026-06-25T08:00 (local time), or 'now' (on approval).",
    ),
    as_json: bool = JSON,
) -> None:
    """Make a follow-up draft of a press release that was sent: it goes to exactly the
    addresses the release was delivered to (minus who unsubscribed or was suppressed
    since), threaded under their copy, with the subject prefixed by its kind.

    A lift moves the release's Sperrfrist to the moment the lift is sent; after a
    withdrawal the archive no longer shows the release. Like any press release the
    follow-up is approved by a second person, then sent.

    Example: rundbrief compose followup 12 --kind correction --text-file berichtigung.md
    """
    state = app_context(ctx)
    send = parse_send_at(send_at, state) if send_at else None
    text = read_text_file(text_file) if text_file is not None else None
    flow = workflow(state)
    mailing = flow.compose_followup(
        original_id, kind, text_md=text, title=title, send_at=send, by=actor(state)
    )
    if as_json:
        emit_json(
            {
                "mailing": mailing.id,
                "follows": mailing.follows_id,
                "kind": str(mailing.follow_kind),
                "subject": mailing.subject,
                "send_at": mailing.send_at.isoformat() if mailing.send_at else None,
                "embargo": mailing.embargo_at.isoformat() if mailing.embargo_at else None,
                "recipients": flow.overview(mailing.id).recipients,
            }
        )
        return
    line = (
        f"Draft {mailing.follow_kind} [bold]{mailing.id}[/bold] of press release "
        f"{original_id}: “{mailing.subject}”"
    )
    line += (
        f", sent at {local_time(mailing.send_at, state)}"
        if mailing.send_at
        else ", sent when approved"
    )
    if mailing.embargo_at:
        line += f", embargo (Sperrfrist) {local_time(mailing.embargo_at, state)}"
    console.print(line + ".")
    console.print(
        f"Recipients: {flow.overview(mailing.id).recipients} of those who got {original_id} (now)",
        markup=False,
    )
    console.print(
        f"Next: rundbrief preview {mailing.id}  ·  rundbrief approve {mailing.id} "
        "(by a second person)"
    )


def print_audience(flow: Workflow, mailing: Mailing) -> None:
    """Who a new draft reaches: the lists, the segment, how many people that is now."""
    view = flow.overview(mailing.id)
    console.print(f"Recipients: {view.recipients} (now)", markup=False)
    console.print(segment_line(mailing), markup=False)
    print_unknown_attributes(view)
