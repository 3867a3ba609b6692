"""Drives a seat page in headless Chromium over the DevTools Protocol (see
bench/play-browser.sh). Arguments: debugging port, seat URL, facilitator URL, directory
for screenshots."""

import base64
import json
import statistics
import sys
import time
import urllib.request

import websocket  # websocket-client

port, seat, facilitator, shots = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

for _ in range(100):
    try:
        tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
        page = next(t for t in tabs if t["type"] == "page")
        break
    except Exception:
        time.sleep(0.1)
ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
counter = 0


def call(method, **params):
    global counter
    counter += 1
    ws.send(json.dumps({"id": counter, "method": method, "params": params}))
    while True:
        reply = json.loads(ws.recv())
        if reply.get("id") == counter:
            if "error" in reply:
                raise RuntimeError(reply["error"])
            return reply.get("result", {})


def js(expression):
    result = call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
    if "exceptionDetails" in result:
        raise RuntimeError(result["exceptionDetails"])
    return result["result"].get("value")


def shot(name, full=False):
    params = {"format": "png"}
    if full:
        height = js("document.documentElement.scrollHeight")
        call("Emulation.setDeviceMetricsOverride", width=1280, height=height, deviceScaleFactor=1, mobile=False)
    data = call("Page.captureScreenshot", **params)["data"]
    with open(f"{shots}/{name}.png", "wb") as f:
        f.write(base64.b64decode(data))
    call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
    print(f"screenshot: {shots}/{name}.png")


def wait_for(expression, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        value = js(expression)
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(expression)


call("Page.enable")
call("Page.navigate", url=seat)
wait_for("document.readyState === 'complete'")

# Fill the form as a person would: a modest plan, a short message, every other field at
# its first value. The message starts with a script tag: it must show as text.
FILL = """
(() => {
  const f = document.getElementById('form');
  const set = (name, v) => { const n = f.querySelector('[name="' + name + '"]'); if (n) n.value = v; };
  for (const n of f.querySelectorAll('textarea')) n.value = '<b>hi</b><script>alert(1)</script> Let us all keep 2 ships deep and 1 at the coast.';
  set('order', 0); set('deep', 2); set('coast', 1);
  const kind = document.getElementById('status').textContent;
  f.querySelector('button').click();
  return kind;
})()
"""
timings = []
seen = set()
asked = 0
shots_taken = set()
while True:
    state = wait_for(
        "(() => { const s = document.getElementById('status').textContent;"
        " if (s.startsWith('The game is over')) return 'done';"
        " const q = document.getElementById('question');"
        " return (!q.hidden && document.querySelector('#form button') && !document.querySelector('#form button').disabled) ? 'ask:' + s : ''; })()"
    )
    if state == "done":
        break
    question = state[4:]
    if question in seen:
        time.sleep(0.05)
        continue
    seen.add(question)
    asked += 1
    if asked == 1:
        shot("seat-first-question")
    if "decision" in question and "decision" not in shots_taken:
        shots_taken.add("decision")
        shot("seat-decision")
    start = time.perf_counter()
    js(FILL)
    # The page says the answer was accepted, then the next question (or the wait) shows.
    wait_for("document.getElementById('status').textContent.startsWith('Answer sent') || document.getElementById('status').textContent !== " + json.dumps(question))
    accepted = time.perf_counter()
    wait_for("document.getElementById('status').textContent !== " + json.dumps(question) + " && !document.getElementById('status').textContent.startsWith('Answer sent')")
    following = time.perf_counter()
    timings.append((question, (accepted - start) * 1000, (following - start) * 1000))
    print(f"answered {question}", flush=True)
shot("seat-end")

# A message written as a script tag is on the page as text, and never ran.
call("Page.navigate", url=facilitator)
wait_for("document.readyState === 'complete'")
wait_for("document.getElementById('ending').textContent.includes('game is over')", 60)
shot("facilitator")
story_link = js("document.querySelector('#ending a').href")
call("Page.navigate", url=story_link)
wait_for("document.readyState === 'complete'")
text_shown = js("document.body.innerText.includes('<script>alert(1)</script>')")
ran = js("document.querySelectorAll('script').length")
print(f"story shows the <script> message as text: {text_shown}; script elements on the page: {ran}")
if not text_shown or ran:
    sys.exit("a message was rendered as HTML")

print(f"{len(timings)} questions answered in the browser")
accept = [t[1] for t in timings]
nxt = [t[2] for t in timings]
print(f"answer accepted (click to 'Answer sent'): median {statistics.median(accept):.0f} ms, max {max(accept):.0f} ms")
print(f"next question on the page (click to next question or wait): median {statistics.median(nxt):.0f} ms, max {max(nxt):.0f} ms")
