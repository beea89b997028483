#!/usr/bin/env python3
"""A loopback SMTP server for railwatch's tests, on Debian's python3-aiosmtpd.

Listens on 127.0.0.1 (port 0 = chosen by the OS, written to --port-file once listening). Every
accepted message is appended to --messages as one JSON line {mail_from, rcpt_tos, data, tls,
auth_user}; every command is appended to --commands as one line (AUTH with its mechanism only,
never credentials). Options: --tls-cert/--tls-key offer STARTTLS (and require it before MAIL);
--auth USER:PASSWORD advertises AUTH PLAIN/LOGIN (also without TLS, so a test can show that the
client does not use it); --reject ADDRESS answers 550 to RCPT TO that address.
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--messages", required=True)
    parser.add_argument("--commands", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--auth")
    parser.add_argument("--reject", action="append", default=[])
    return parser.parse_args()


class Recorder:
    def __init__(self, args):
        self.messages = open(args.messages, "a", encoding="utf-8")
        self.commands = open(args.commands, "a", encoding="utf-8")
        self.reject = {address.lower() for address in args.reject}

    def command(self, line):
        self.commands.write(line + "\n")
        self.commands.flush()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", errors="replace"),
            "tls": session.ssl is not None,
            "auth_user": session.login_data.decode() if isinstance(session.login_data, bytes) else session.login_data,
        }
        self.messages.write(json.dumps(record) + "\n")
        self.messages.flush()
        return "250 2.0.0 queued"


def make_authenticator(expected):
    user, _, password = expected.partition(":")

    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    return authenticate


class LoggingSMTP(SMTP):
    """Records each command a client sends (AUTH with its mechanism only)."""

    def __init__(self, *args, recorder, **kwargs):
        super().__init__(*args, **kwargs)
        self._recorder = recorder

    async def smtp_EHLO(self, hostname):
        self._recorder.command("EHLO")
        return await super().smtp_EHLO(hostname)

    async def smtp_STARTTLS(self, arg):
        self._recorder.command("STARTTLS")
        return await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg):
        mechanism = (arg or "").split(" ")[0]
        self._recorder.command("AUTH " + mechanism)
        return await super().smtp_AUTH(arg)

    async def smtp_MAIL(self, arg):
        self._recorder.command("MAIL")
        return await super().smtp_MAIL(arg)

    async def smtp_RSET(self, arg):
        self._recorder.command("RSET")
        return await super().smtp_RSET(arg)


def main():
    args = parse_args()
    recorder = Recorder(args)
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    kwargs = {
        "hostname": "localhost",
        "decode_data": False,
        "enable_SMTPUTF8": True,
        "tls_context": tls_context,
        "require_starttls": tls_context is not None,
    }
    if args.auth:
        kwargs["authenticator"] = make_authenticator(args.auth)
        kwargs["auth_require_tls"] = False

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(lambda: LoggingSMTP(recorder, recorder=recorder, **kwargs), host="127.0.0.1", port=args.port)
    )
    port = server.sockets[0].getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, args.port_file)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
