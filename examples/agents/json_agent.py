#!/usr/bin/env python3
"""A Fishbanks seat over plain JSON (`kind = "remote"`, `transport = "json"`), standard
library only: the harness POSTs one payload per question and reads the answer object
from the response body.

    python3 examples/agents/json_agent.py --port 8765
    # then, in an experiment: { kind = "remote", url = "http://127.0.0.1:8765/" }

`--port 0` picks a free port; the first line printed is `listening http://HOST:PORT/`.
The rule it plays is in rule.py (keep the fleet, fish at the regeneration).
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, __import__("os").path.dirname(__file__))
import rule  # noqa: E402


class Seat(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep connections alive, as the harness does
    # The headers and the body go out in two writes: without TCP_NODELAY the body waits
    # for the harness's delayed ACK (about 40 ms a question on Linux).
    disable_nagle_algorithm = True

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # a liveness answer for the harness's probe
        self._send(200, {"agent": "rule-of-thumb", "transport": "json"})

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        try:
            payload = json.loads(self.rfile.read(length))
        except ValueError:
            self._send(400, {"error": "the body is not JSON"})
            return
        self._send(200, rule.answer(payload))

    def log_message(self, *args):  # quiet
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    # Many questions arrive at once (every team of every run in flight): a deep backlog.
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer((args.host, args.port), Seat)
    host, port = server.server_address[:2]
    print(f"listening http://{host}:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
