"""``rundbrief serve``: the web app (editors' pages, archive, sign-up, unsubscribe, webhooks).

It runs under waitress, a small pure-Python WSGI server with a thread pool, which is
fit for production behind a reverse proxy (nginx, Caddy) that terminates TLS; set
``[web] proxy_hops`` to the number of proxies so client addresses are right.
"""

from __future__ import annotations

import typer

from pipeline.cli.context import app_context
from pipeline.cli.output import console, err_console

THREADS = 8


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the app."""

    @app.command("serve")
    def serve(
        ctx: typer.Context,
        host: str = typer.Option(
            None, "--host", help="Address to listen on (default: [web] host)."
        ),
        port: int = typer.Option(
            None, "--port", min=1, max=65535, help="Port to listen on (default: [web] port)."
        ),
    ) -> None:
        """Start the web app: editors' preview and approval, public archive, unsubscribe.

        Needs the signing secret in the variable named by [web] secret_env; editors log
        in with their accounts (rundbrief users add).

        Example: RUNDBRIEF_SECRET=… rundbrief serve --host 127.0.0.1 --port 8000
        """
        from waitress import serve as waitress_serve

        from pipeline.web import create_app

        state = app_context(ctx)
        settings = state.settings
        web = settings.web
        # Unsubscribe links and sessions are signed with it: refuse to start without it.
        settings.secret(web.secret_env, key="web.secret_env")
        app = create_app(settings, state.store, clock=state.clock, mail_worker=True)
        from pipeline.accounts import Accounts

        # after create_app: it makes the old shared log-in the first account, if set
        if Accounts(state.store, settings, state.clock).count() == 0:
            err_console.print(
                "warning: there is no account yet, so nobody can log in to the editor pages: "
                "rundbrief users add EMAIL --role admin"
            )
        bind_host = host or web.host
        bind_port = port or web.port
        console.print(
            f"Rundbrief web app on http://{bind_host}:{bind_port}/editor/ "
            f"(public address {web.base_url}); Ctrl+C stops it"
        )
        waitress_serve(
            app,
            host=bind_host,
            port=bind_port,
            threads=THREADS,
            ident="rundbrief",
            # The app alone decides which forwarded entries to believe ([web] proxy_hops,
            # werkzeug's ProxyFix in create_app), so it behaves the same under any WSGI
            # server. Waitress's own trust (trusted_proxy) wants the proxy's exact peer
            # address, which the config does not know, and both together would count the
            # hops twice. So waitress passes the headers on when proxy_hops says a proxy
            # sets them, and strips them otherwise (then a client cannot pick its address).
            clear_untrusted_proxy_headers=not web.proxy_hops,
        )
