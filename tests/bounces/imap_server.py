"""A small IMAP4rev1 server on loopback: just what reading a bounce mailbox needs.

LOGIN, AUTHENTICATE PLAIN, SELECT, UID SEARCH UNSEEN, UID FETCH (BODY.PEEK[]), UID STORE +FLAGS (\\Seen),
LOGOUT, over the real protocol so ``imaplib`` is exercised as against Dovecot.
"""

from __future__ import annotations

import base64
import re
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class ImapMailbox:
    user: str
    password: str
    messages: dict[int, bytes] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    logins: int = 0

    def add(self, data: bytes) -> int:
        uid = max(self.messages, default=0) + 1
        self.messages[uid] = data
        return uid


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def send(self, line: str | bytes) -> None:
        self.wfile.write(line if isinstance(line, bytes) else line.encode())

    def handle(self) -> None:
        box = self.server.box
        self.send("* OK IMAP4rev1 test server ready\r\n")
        authed = False
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            tag, _, rest = raw.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + f"{tag} OK done\r\n")
            elif command == "LOGIN":
                user, password = [t.strip('"').replace('\\"', '"') for t in _tokens(args)]
                if (user, password) == (box.user, box.password):
                    authed = True
                    box.logins += 1
                    self.send(f"{tag} OK logged in\r\n")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")
            elif command == "AUTHENTICATE" and args.upper() == "PLAIN":
                self.send("+ \r\n")
                answer = base64.b64decode(self.rfile.readline().strip())
                _, user, password = answer.decode("utf-8").split("\0")
                if (user, password) == (box.user, box.password):
                    authed = True
                    box.logins += 1
                    self.send(f"{tag} OK authenticated\r\n")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")
            elif command == "LOGOUT":
                self.send(f"* BYE logging out\r\n{tag} OK done\r\n")
                return
            elif not authed:
                self.send(f"{tag} BAD log in first\r\n")
            elif command == "SELECT":
                self.send(f"* {len(box.messages)} EXISTS\r\n* FLAGS (\\Seen)\r\n")
                self.send(f"{tag} OK [READ-WRITE] selected\r\n")
            elif command == "UID":
                self._uid(tag, args)
            else:
                self.send(f"{tag} BAD unknown command\r\n")

    def _uid(self, tag: str, args: str) -> None:
        box = self.server.box
        sub, _, rest = args.partition(" ")
        sub = sub.upper()
        if sub == "SEARCH":
            unseen = [str(u) for u in sorted(box.messages) if u not in box.seen]
            self.send(f"* SEARCH {' '.join(unseen)}\r\n{tag} OK done\r\n")
        elif sub == "FETCH":
            uid = int(rest.split()[0])
            data = box.messages[uid]
            self.send(
                f"* {uid} FETCH (UID {uid} BODY[] {{{len(data)}}}\r\n".encode() + data + b")\r\n"
            )
            self.send(f"{tag} OK done\r\n")
        elif sub == "STORE":
            uid = int(rest.split()[0])
            box.seen.add(uid)
            self.send(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))\r\n{tag} OK done\r\n")
        else:
            self.send(f"{tag} BAD unknown UID command\r\n")


def _tokens(args: str) -> list[str]:
    return re.findall(r'"(?:[^"\\]|\\.)*"|\S+', args)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    box: ImapMailbox


class ImapServer:
    def __init__(self, box: ImapMailbox) -> None:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.box = box
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> ImapServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
