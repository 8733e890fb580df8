"""Notes: a web app on Python's standard library, keeping its notes in SQLite.

The database file comes from $DB_URL (sqlite:////absolute/path.sqlite), or
$DATABASE_URL; Paasmaker chooses the port and passes it in $PORT.
"""
import html
import json
import os
import signal
import sqlite3
import sys
from contextlib import closing
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 64 * 1024  # bytes; a note is text, not an upload


def database_path():
    url = os.environ.get("DB_URL") or os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("notes: set DB_URL (or DATABASE_URL) to sqlite:////absolute/path.sqlite")
    if not url.startswith("sqlite://"):
        sys.exit(f"notes: DB_URL must start with sqlite:// (got {url!r})")
    # The path follows the scheme's "//". Taken literally, sqlite:////tmp/x.sqlite
    # would leave "//tmp/x.sqlite", so collapse the leading slashes: three or four
    # slashes (both forms are common) give the same absolute path.
    path = url[len("sqlite://"):].lstrip("/")
    if not path:
        sys.exit(f"notes: DB_URL names no file (got {url!r})")
    return "/" + path


DB_PATH = database_path()


def connect():
    # One connection per request: sqlite3 connections must not be shared
    # between the server's threads. The timeout waits out other writers.
    conn = sqlite3.connect(DB_PATH, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def create_table():
    with closing(connect()) as conn, conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS notes("
            "id INTEGER PRIMARY KEY, body TEXT NOT NULL, created TEXT NOT NULL)"
        )


def list_notes():
    with closing(connect()) as conn:
        rows = conn.execute("SELECT id, body, created FROM notes ORDER BY id DESC").fetchall()
    return [dict(row) for row in rows]


def add_note(body):
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with closing(connect()) as conn, conn:  # the inner `conn` commits
        cursor = conn.execute("INSERT INTO notes(body, created) VALUES (?, ?)", (body, created))
    return {"id": cursor.lastrowid, "body": body, "created": created}


def page(notes):
    items = "\n".join(
        f"<li>{html.escape(n['body'])} <small>{html.escape(n['created'])}</small></li>" for n in notes
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Notes</title></head>
<body>
<h1>Notes</h1>
<form method="post" action="/notes">
  <textarea name="body" rows="3" cols="50" required></textarea><br>
  <button>Add note</button>
</form>
<ul>
{items or "<li><em>No notes yet.</em></li>"}
</ul>
<p><a href="/notes.json">notes.json</a></p>
</body></html>
"""


class Notes(BaseHTTPRequestHandler):
    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/":
            notes = list_notes()
            if "text/html" in self.headers.get("Accept", ""):
                self.reply(200, page(notes), "text/html")
            else:
                lines = "".join(f"{n['id']}\t{n['created']}\t{n['body']}\n" for n in notes)
                self.reply(200, lines or "no notes yet\n", "text/plain")
        elif path == "/notes.json":
            self.reply_json(200, list_notes())
        else:
            self.reply(404, "not found\n", "text/plain")

    def do_POST(self):
        if urlsplit(self.path).path != "/notes":
            self.reply(404, "not found\n", "text/plain")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.reply(413 if length > MAX_BODY else 400, "bad or too large request body\n", "text/plain")
            return
        raw = self.rfile.read(length).decode("utf-8", errors="replace")
        is_json = self.headers.get("Content-Type", "").lower().startswith("application/json")
        if is_json:
            try:
                data = json.loads(raw)
            except ValueError:
                self.reply_json(400, {"error": "invalid JSON"})
                return
            body = data.get("body") if isinstance(data, dict) else None
        else:
            body = parse_qs(raw).get("body", [None])[0]
        if not isinstance(body, str) or not body.strip():
            if is_json:
                self.reply_json(400, {"error": "body must be a non-empty string"})
            else:
                self.reply(400, "body must not be empty\n", "text/plain")
            return
        note = add_note(body.strip())
        if is_json:
            self.reply_json(201, note)
        else:
            # 303 makes the browser follow with a GET, so a reload doesn't post twice.
            self.send_response(303)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()

    def reply(self, status, text, content_type):
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, status, value):
        self.reply(status, json.dumps(value) + "\n", "application/json")

    def log_message(self, fmt, *args):
        print(f"{self.address_string()} {fmt % args}", flush=True)


def main():
    port = int(os.environ.get("PORT", "8000"))
    try:
        create_table()
    except sqlite3.Error as error:
        sys.exit(f"notes: cannot open the database {DB_PATH}: {error}")
    # Paasmaker gives HOST=127.0.0.1 (its router reaches apps on loopback only); a container export gives 0.0.0.0.
    host = os.environ.get("HOST") or "127.0.0.1"
    server = ThreadingHTTPServer((host, port), Notes)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on http://{host}:{port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
