#!/usr/bin/env python3
"""A Fishbanks seat over the Agent2Agent protocol (`kind = "remote"`,
`transport = "a2a"`), built on PyPI's `a2a-sdk` (1.x): an agent card at
`/.well-known/agent-card.json`, JSON-RPC `SendMessage` at `/`, and an executor that
reads the harness's payload from the message's data part and answers with a data part.

    pip install "a2a-sdk[http-server]" uvicorn     # bench/a2a-agent.sh does it in a venv
    python3 examples/agents/a2a_agent.py --port 8766
    # then, in an experiment: { kind = "remote", transport = "a2a", url = "http://127.0.0.1:8766" }

`--port 0` picks a free port; the first line printed is `listening http://HOST:PORT/`.
The rule it plays is rule.py's (keep the fleet, fish at the regeneration), as the JSON
example's: the two transports can be compared on one strategy.
"""

import argparse
import os
import socket
import sys

import uvicorn
from a2a.helpers.proto_helpers import get_data_parts, new_data_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from starlette.applications import Starlette

sys.path.insert(0, os.path.dirname(__file__))
import rule  # noqa: E402


class RuleOfThumb(AgentExecutor):
    """Answers each question with rule.py's answer, as one data message."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        data = get_data_parts(context.message.parts) if context.message else []
        payload = next(
            (d for d in data if isinstance(d, dict) and str(d.get("protocol", "")).startswith("fishbanks.remote/")),
            None,
        )
        answer = rule.answer(payload) if payload else {"error": "no fishbanks payload in the message"}
        await event_queue.enqueue_event(
            new_data_message(answer, media_type="application/json", context_id=context.context_id)
        )

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        return None


def card(url: str) -> AgentCard:
    return AgentCard(
        name="Fishbanks rule of thumb",
        description="Keeps its fleet and fishes at the regeneration (a Fishbanks seat).",
        version="1.0.0",
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["application/json", "text/plain"],
        default_output_modes=["application/json"],
        skills=[
            AgentSkill(
                id="fishbanks-seat",
                name="Fishbanks seat",
                description="Answers one Fishbanks question (fishbanks.remote/1 payload) with its answer object.",
                tags=["fishbanks", "game"],
            )
        ],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Answers in more than one write must not wait for the harness's delayed ACK (about
    # 40 ms a question): connections accepted on this socket inherit TCP_NODELAY.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((args.host, args.port))
    host, port = sock.getsockname()[:2]
    url = f"http://{host}:{port}/"
    agent_card = card(url)
    handler = DefaultRequestHandler(
        agent_executor=RuleOfThumb(), task_store=InMemoryTaskStore(), agent_card=agent_card
    )
    app = Starlette(routes=create_agent_card_routes(agent_card) + create_jsonrpc_routes(handler, "/"))
    print(f"listening {url}", flush=True)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
