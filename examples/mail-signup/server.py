"""Mail sign-up: a web app on Python's standard library that sends a welcome e-mail.

The SMTP server comes from $SMTP_HOST and $SMTP_PORT, the login from
$SMTP_USER and $SMTP_PASSWORD (Paasmaker's mail service sets all four; with
`password: false` it sets no login and none is needed). Paasmaker chooses the
port and passes it in $PORT.
"""
import html
import os
import re
import signal
import smtplib
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MAX_BODY = 16 * 1024  # bytes: a form with a name and an address
ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+$")
SENDER = os.environ.get("MAIL_FROM", "Mail sign-up <welcome@mail-signup.localhost>")

for name in ("SMTP_HOST", "SMTP_PORT"):
    if not os.environ.get(name):
        sys.exit(f"mail-signup: set {name} (a mail service sets it: services: {{mail: {{plugin: mail}}}})")


def send_welcome(name, address):
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = address
    message["Subject"] = f"Welcome, {name}!"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="mail-signup.localhost")
    text = f"Hello {name},\n\nthanks for signing up. Your account is ready.\n\n-- the mail-signup team\n"
    message.set_content(text)
    message.add_alternative(
        f"<p>Hello <b>{html.escape(name)}</b>,</p><p>thanks for signing up. Your account is ready.</p>"
        "<p>&mdash; the mail-signup team</p>",
        subtype="html",
    )
    with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"]), timeout=10) as smtp:
        if os.environ.get("SMTP_USER"):
            smtp.login(os.environ["SMTP_USER"], os.environ.get("SMTP_PASSWORD", ""))
        smtp.send_message(message)


def page(notice=""):
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Sign up</title></head>
<body>
<h1>Sign up</h1>
{notice}
<form method="post" action="/signup">
  <label>Name <input name="name" required></label>
  <label>E-mail <input name="email" type="email" required></label>
  <button>Sign up</button>
</form>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    def send(self, status, body, content_type="text/html; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.split("?")[0] != "/":
            return self.send(404, "not found\n", "text/plain; charset=utf-8")
        self.send(200, page())

    def do_POST(self):
        if self.path.split("?")[0] != "/signup":
            return self.send(404, "not found\n", "text/plain; charset=utf-8")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.send(413, page("<p>That form is too large.</p>"))
        fields = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        name = (fields.get("name") or [""])[0].strip()[:100]
        address = (fields.get("email") or [""])[0].strip()[:200]
        if not name or not ADDRESS.match(address):
            return self.send(400, page("<p>Give a name and an e-mail address.</p>"))
        try:
            send_welcome(name, address)
        except ValueError:
            # A line break in the name would start a header of its own: the email package refuses it.
            return self.send(400, page("<p>A name is one line of text.</p>"))
        except (OSError, smtplib.SMTPException) as error:
            print(f"mail-signup: could not send to {address}: {error}", flush=True)
            return self.send(502, page(f"<p>Could not send the e-mail: {html.escape(str(error))}</p>"))
        print(f"mail-signup: sent a welcome e-mail to {address}", flush=True)
        self.send(200, page(f"<p>Thanks, {html.escape(name)}! We sent a welcome e-mail to {html.escape(address)}.</p>"))

    def log_message(self, format, *args):
        pass  # the router keeps the request log


def main():
    # Loopback as Paasmaker gives it in $HOST; 0.0.0.0 in a container.
    host = os.environ.get("HOST") or "127.0.0.1"
    server = ThreadingHTTPServer((host, int(os.environ.get("PORT", "8000"))), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"mail-signup: listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
