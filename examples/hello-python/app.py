"""A hello-world web app. Paasmaker chooses the port and passes it in $PORT."""
import os
import platform
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n" if self.path == "/healthz" else (
            f"Hello from Python {platform.python_version()} (pid {os.getpid()})\n".encode()
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(f"{self.address_string()} {fmt % args}", flush=True)


def main():
    port = int(os.environ.get("PORT", "8000"))
    # Paasmaker gives HOST=127.0.0.1 (its router reaches apps on loopback only); a container export gives 0.0.0.0.
    host = os.environ.get("HOST") or "127.0.0.1"
    server = ThreadingHTTPServer((host, port), Hello)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on http://{host}:{port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
