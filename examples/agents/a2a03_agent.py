#!/usr/bin/env python3
"""A Fishbanks seat over Agent2Agent 0.3 (`kind = "remote"`, `transport = "a2a"`),
standard library only: an agent card of version 0.3 at `/.well-known/agent-card.json`
(`protocolVersion`, `url`, `preferredTransport`) and JSON-RPC `message/send` at that
`url`, answering each question with a message whose data part is the answer object.

    python3 examples/agents/a2a03_agent.py --port 8767
    # then, in an experiment: { kind = "remote", transport = "a2a", url = "http://127.0.0.1:8767" }

The harness reads the card and speaks 0.3 to it (a card offering A2A 1.x over JSON-RPC
gets `SendMessage` instead: a2a_agent.py). What travels, for an author of any framework:
the request's `params.message` holds a text part (the prompt, each message under its
role) and a data part (the fishbanks.remote/1 payload), a `messageId` derived from the
question and a `contextId` that is the run and the team (one conversation per seat and
game). `--port 0` picks a free port; the first line printed is `listening http://HOST:PORT/`.
The rule it plays is rule.py's, as the other examples'.
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, __import__("os").path.dirname(__file__))
import rule  # noqa: E402


def card(url):
    return {
        "name": "Fishbanks rule of thumb (A2A 0.3)",
        "description": "Keeps its fleet and fishes at the regeneration (a Fishbanks seat).",
        "version": "1.0.0",
        "protocolVersion": "0.3.0",
        "url": url,
        "preferredTransport": "JSONRPC",
        "capabilities": {"streaming": False},
        "defaultInputModes": ["application/json", "text/plain"],
        "defaultOutputModes": ["application/json"],
        "skills": [
            {
                "id": "fishbanks-seat",
                "name": "Fishbanks seat",
                "description": "Answers one Fishbanks question (fishbanks.remote/1 payload) with its answer object.",
                "tags": ["fishbanks", "game"],
            }
        ],
    }


class Agent(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # see json_agent.py
    url = ""

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path in ("/.well-known/agent-card.json", "/.well-known/agent.json"):
            self._send(200, card(self.url))
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        try:
            request = json.loads(self.rfile.read(length))
        except ValueError:
            self._send(200, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
            return
        rid = request.get("id")
        if request.get("method") != "message/send":
            self._send(200, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "method not found"}})
            return
        message = request.get("params", {}).get("message", {})
        payload = next(
            (p.get("data") for p in message.get("parts", []) if p.get("kind") == "data"),
            None,
        )
        if not isinstance(payload, dict):
            self._send(200, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "no fishbanks payload"}})
            return
        reply = {
            "kind": "message",
            "messageId": f"answer-{message.get('messageId', '')}",
            "contextId": message.get("contextId"),
            "role": "agent",
            "parts": [{"kind": "data", "data": rule.answer(payload)}],
        }
        self._send(200, {"jsonrpc": "2.0", "id": rid, "result": reply})

    def log_message(self, *args):  # quiet
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer((args.host, args.port), Agent)
    host, port = server.server_address[:2]
    Agent.url = f"http://{host}:{port}/"
    print(f"listening {Agent.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
