#!/usr/bin/env python3
"""A Fishbanks seat over the Model Context Protocol (`kind = "mcp"`), on the official
`mcp` SDK from PyPI (2.x): the harness serves the MCP endpoint, and this client, as any
MCP-capable agent host would, calls its tools until the sweep is over:
`next_question` (the next open question of its seats, as the fishbanks.remote/1 payload
with a `question_id`) and `answer` (`question_id`, `answer`: the answer object). With
`--batch N` it plays as a program that holds many seats would: `next_questions` takes up
to N open questions at once and `answer_many` answers them in one call (fewer requests,
the same questions, every answer read as `answer` reads it).

    pip install "mcp>=2,<3"          # bench/mcp-agent.sh does it in a virtual environment
    fishbanks run experiments/mcp.toml   # prints `mcp: http://127.0.0.1:PORT/mcp` and a token
    python3 examples/agents/mcp_agent.py --url http://127.0.0.1:PORT/mcp --token TOKEN

(`--token` defaults to $FISHBANKS_MCP_TOKEN.) It plays rule.py's rule of thumb (keep the
fleet, fish at the regeneration), as the other examples do; an LLM agent host would read
the payload's `prompt` and `schema` instead. It prints one line per question it answered
and how long the call took.
"""

import argparse
import asyncio
import json
import os
import sys
import time

import httpx2
from mcp import ClientSession, Implementation
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, os.path.dirname(__file__))
import rule  # noqa: E402


def content(result):
    """A tool result as JSON: its structured content, else its first text block."""
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def tally(counts, quiet, question, verdict, took):
    """Count a verdict and, unless quiet, print a line for it."""
    counts["accepted" if verdict.get("accepted") else "refused"] += 1
    if not quiet:
        print(
            f"{question['run_id']} team {question['team']} year {question['year']} "
            f"{question['question']}: {'accepted' if verdict.get('accepted') else verdict.get('reason')} "
            f"({took})",
            flush=True,
        )


async def seat_loop(session, quiet, counts, over):
    """Take questions and answer them until the sweep is done. Each answer also takes
    the next question (`next_wait_s`): one call per question instead of two. `over` is
    set by the first loop told {"done": true}: the endpoint then closes, and a call of
    another loop that fails on the way ends that loop quietly."""
    question = None
    while True:
        try:
            if question is None:
                question = content(await session.call_tool("next_question", {"wait_s": 20}))
            if question.get("done"):
                over.set()
                return
            if question.get("waiting"):
                question = None
                continue
            started = time.perf_counter()
            result = await session.call_tool(
                "answer",
                {
                    "question_id": question["question_id"],
                    "answer": rule.answer(question),
                    "next_wait_s": 20,
                },
            )
        except Exception:
            if over.is_set():
                return
            raise
        took = (time.perf_counter() - started) * 1000
        if result.is_error:  # the question was no longer open (it timed out): go on
            print(f"not taken: {result.content[0].text}", flush=True)
            question = None
            continue
        verdict = content(result)
        tally(counts, quiet, question, verdict, f"{took:.1f} ms")
        question = verdict.get("next")


async def batch_loop(session, quiet, counts, over, batch):
    """`seat_loop` by batches: up to `batch` questions taken in one call, answered in one
    call that also takes the next batch."""
    got = None
    while True:
        try:
            if got is None:
                got = content(
                    await session.call_tool("next_questions", {"wait_s": 20, "max_questions": batch})
                )
            if got.get("done"):
                over.set()
                return
            if got.get("waiting"):
                got = None
                continue
            questions = got["questions"]
            started = time.perf_counter()
            answers = [{"question_id": q["question_id"], "answer": rule.answer(q)} for q in questions]
            result = await session.call_tool(
                "answer_many",
                {"answers": answers, "next_wait_s": 20, "next_max_questions": batch},
            )
        except Exception:
            if over.is_set():
                return
            raise
        took = (time.perf_counter() - started) * 1000
        if result.is_error:
            print(f"not answered: {result.content[0].text}", flush=True)
            got = None
            continue
        out = content(result)
        for question, verdict in zip(questions, out["results"]):
            if "error" in verdict:  # no longer open (it timed out): go on
                print(f"not taken: {verdict['error']}", flush=True)
                continue
            tally(counts, quiet, question, verdict, f"{took:.1f} ms for {len(questions)}")
        got = out.get("next")


async def play(url, token, quiet, parallel, batch):
    headers = {"Authorization": f"Bearer {token}"}
    # Long enough for `next_question`'s wait (20 s) and a slow answer.
    timeout = httpx2.Timeout(30, read=90)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            info = Implementation(name="fishbanks-mcp-example", version="1.0.0")
            async with ClientSession(read, write, client_info=info) as session:
                await session.initialize()
                counts = {"accepted": 0, "refused": 0}
                # Several questions at once (the runs of a sweep ask in parallel).
                over = asyncio.Event()
                if batch > 1:
                    loops = (batch_loop(session, quiet, counts, over, batch) for _ in range(parallel))
                else:
                    loops = (seat_loop(session, quiet, counts, over) for _ in range(parallel))
                await asyncio.gather(*loops)
                print(f"done: {counts['accepted']} answers accepted, {counts['refused']} refused", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the endpoint the harness printed (…/mcp)")
    parser.add_argument("--token", default=os.environ.get("FISHBANKS_MCP_TOKEN"))
    parser.add_argument("--quiet", action="store_true", help="print only the final count")
    parser.add_argument("--parallel", type=int, default=1, help="questions (or batches) worked on at once")
    parser.add_argument("--batch", type=int, default=1, help="questions taken and answered per call (1: one at a time)")
    args = parser.parse_args()
    if not args.token:
        parser.error("--token (or $FISHBANKS_MCP_TOKEN): the token the harness printed or read from token_env")
    asyncio.run(play(args.url, args.token, args.quiet, max(args.parallel, 1), min(max(args.batch, 1), 64)))


if __name__ == "__main__":
    main()
