//! The seat page and the facilitator's page: HTML, CSS and a little JavaScript, no data.
//! Each page asks its `/state` for JSON (waiting for the next change) and writes every
//! recorded or typed text with `textContent`, so a message `<script>…` shows as those
//! characters and never runs.

const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#0b3954;color:#fff;padding:.6em 1em;display:flex;gap:1.5em;align-items:baseline}
header h1{font-size:1.2em;margin:0}
main{display:grid;grid-template-columns:minmax(0,3fr) minmax(280px,2fr);gap:1em;padding:1em;max-width:1300px;margin:auto}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em 1em}
h2{font-size:1em;margin:.2em 0 .6em}
pre{white-space:pre-wrap;font-size:12.5px;line-height:1.35;margin:.4em 0;padding:.5em;background:#f6f6f6;border-radius:4px;max-height:none}
pre.assistant{background:#fff4e5}
#prompt{max-height:70vh;overflow:auto}
label{display:block;margin:.5em 0 .15em;font-weight:600}
.limits{font-weight:400;color:#555;font-size:.9em}
input[type=number],select,textarea{font-size:1em;padding:.3em;width:100%;box-sizing:border-box}
textarea{min-height:4em}
button{margin-top:.8em;font-size:1em;padding:.4em 1.2em;background:#0b3954;color:#fff;border:0;border-radius:4px}
button:disabled{background:#999}
#status{font-weight:600}
#countdown.low{color:#c0392b}
.note{color:#555;font-size:.9em}
table{border-collapse:collapse;font-size:14px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
"#;

/// A small line chart (SVG, drawn by the page) and the helpers both pages share.
const COMMON_JS: &str = r#"
const el = id => document.getElementById(id);
const sleep = ms => new Promise(r => setTimeout(r, ms));
function text(tag, content, cls) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (cls) node.className = cls;
  return node;
}
function chart(svg, title, series) {
  const NS = 'http://www.w3.org/2000/svg';
  svg.replaceChildren();
  const W = 300, H = 130, L = 48, B = 20, T = 16;
  const pts = series.flatMap(s => s.points);
  const t = document.createElementNS(NS, 'text');
  t.setAttribute('x', 4); t.setAttribute('y', 11); t.setAttribute('font-size', '11');
  t.textContent = title;
  svg.appendChild(t);
  if (pts.length === 0) return;
  const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
  const y0 = Math.min(0, ...ys), y1 = Math.max(...ys, y0 + 1);
  const X = x => L + (x - x0) / (x1 - x0) * (W - L - 6);
  const Y = y => H - B - (y - y0) / (y1 - y0) * (H - B - T);
  for (const [v, y] of [[y0, Y(y0)], [y1, Y(y1)]]) {
    const lab = document.createElementNS(NS, 'text');
    lab.setAttribute('x', 2); lab.setAttribute('y', y + 4); lab.setAttribute('font-size', '10');
    lab.textContent = Number.isInteger(v) ? v : v.toFixed(2);
    svg.appendChild(lab);
  }
  const xl = document.createElementNS(NS, 'text');
  xl.setAttribute('x', L); xl.setAttribute('y', H - 4); xl.setAttribute('font-size', '10');
  xl.textContent = 'year ' + x0 + ' to ' + x1;
  svg.appendChild(xl);
  series.forEach((s, i) => {
    const line = document.createElementNS(NS, 'polyline');
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', s.colour);
    line.setAttribute('stroke-width', '2');
    if (s.dash) line.setAttribute('stroke-dasharray', s.dash);
    line.setAttribute('points', s.points.map(p => X(p[0]) + ',' + Y(p[1])).join(' '));
    svg.appendChild(line);
    for (const p of s.points) {
      const dot = document.createElementNS(NS, 'circle');
      dot.setAttribute('cx', X(p[0])); dot.setAttribute('cy', Y(p[1])); dot.setAttribute('r', 2.5);
      dot.setAttribute('fill', s.colour);
      svg.appendChild(dot);
    }
    const key = document.createElementNS(NS, 'text');
    key.setAttribute('x', W - 40); key.setAttribute('y', 26 + 12 * i); key.setAttribute('font-size', '10');
    key.setAttribute('fill', s.colour);
    key.textContent = s.name;
    svg.appendChild(key);
  });
}
"#;

const SEAT_JS: &str = r#"
const base = location.pathname.replace(/\/$/, '');
let version = null, current = null, deadline = null, finished = false;

// The answer's fields from its JSON schema: a plan's schema lists one branch per deep
// count (its `deep` a constant); the form offers every branch's values with the widest
// bounds, and the game checks the exact ones (and says why an answer is refused).
function fieldsOf(schema) {
  const branches = (schema && schema.anyOf) ? schema.anyOf : [schema || {}];
  const props = {}, order = [];
  for (const b of branches) {
    for (const [k, v] of Object.entries(b.properties || {})) {
      const w = JSON.parse(JSON.stringify(v));
      if (w.const !== undefined) { w.enum = [w.const]; delete w.const; }
      if (!props[k]) { props[k] = w; order.push(k); continue; }
      const p = props[k];
      if (w.enum) p.enum = [...new Set([...(p.enum || []), ...w.enum])].sort((a, b) => a - b);
      if (w.minimum !== undefined) p.minimum = Math.min(p.minimum ?? w.minimum, w.minimum);
      if (w.maximum !== undefined) p.maximum = Math.max(p.maximum ?? w.maximum, w.maximum);
    }
  }
  // In the order the question lists them (its `required`), else as found.
  const listed = (branches[0].required || []).filter(k => props[k]);
  const rest = order.filter(k => !listed.includes(k));
  return [...listed, ...rest].map(k => [k, props[k]]);
}

function buildForm(schema) {
  const form = el('form');
  form.replaceChildren();
  if (schema && schema.description) form.appendChild(text('p', schema.description, 'note'));
  for (const [name, s] of fieldsOf(schema)) {
    const label = text('label', name + ' ');
    let input, limits = '';
    const items = s.items || {};
    if (s.type === 'array') {
      limits = items.enum ? '(any of ' + items.enum.join(', ') + (s.maxItems !== undefined ? '; at most ' + s.maxItems : '') + ')' : '';
      input = document.createElement('div');
      input.dataset.kind = 'picks';
      for (const v of items.enum || []) {
        const box = document.createElement('label');
        box.className = 'limits';
        const c = document.createElement('input');
        c.type = 'checkbox'; c.value = v;
        box.append(c, ' ' + v + ' ');
        input.appendChild(box);
      }
    } else if (s.enum) {
      limits = '(one of ' + s.enum.join(', ') + ')';
      input = document.createElement('select');
      input.dataset.kind = 'integer';
      for (const v of s.enum) input.appendChild(text('option', String(v)));
    } else if (s.type === 'integer') {
      limits = '(' + (s.minimum ?? '') + ' to ' + (s.maximum ?? 'any') + ')';
      input = document.createElement('input');
      input.type = 'number'; input.step = 1; input.required = true;
      if (s.minimum !== undefined) { input.min = s.minimum; input.value = s.minimum; }
      if (s.maximum !== undefined) input.max = s.maximum;
      input.dataset.kind = 'integer';
    } else if (s.type === 'boolean') {
      input = document.createElement('select');
      input.dataset.kind = 'boolean';
      input.append(text('option', 'yes'), text('option', 'no'));
    } else {
      limits = s.maxLength !== undefined ? '(at most ' + s.maxLength + ' characters)' : '';
      input = document.createElement('textarea');
      if (s.maxLength !== undefined) input.maxLength = s.maxLength;
      input.dataset.kind = 'string';
    }
    input.name = name;
    input.id = 'field-' + name;
    label.appendChild(text('span', limits, 'limits'));
    if (s.description) label.appendChild(text('div', s.description, 'limits'));
    form.append(label, input);
  }
  const send = text('button', 'Send answer');
  send.type = 'submit';
  form.appendChild(send);
}

function answerOf() {
  const out = {};
  for (const node of el('form').querySelectorAll('[data-kind]')) {
    const k = node.dataset.kind;
    if (k === 'integer') out[node.name] = Number(node.value);
    else if (k === 'boolean') out[node.name] = node.value === 'yes';
    else if (k === 'picks') out[node.id.slice(6)] = [...node.querySelectorAll('input:checked')].map(c => Number(c.value));
    else out[node.name] = node.value;
  }
  return out;
}

async function submit(ev) {
  ev.preventDefault();
  if (!current) return;
  const button = el('form').querySelector('button');
  button.disabled = true;
  const r = await fetch(base + '/answer', {
    method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({question: current.id, answer: answerOf()}),
  });
  el('status').textContent = r.ok ? 'Answer sent: the game checks it.' : 'That question is closed.';
}

function render(seat) {
  renderSeat(seat);
  tick();
}

function renderSeat(seat) {
  el('team').textContent = 'Team ' + seat.team;
  el('tally').textContent = seat.answered + ' answered, ' + seat.timed_out + ' timed out';
  const seen = seat.seen || [];
  chart(el('bank'), 'your bank ($), start of each year', [
    {name: 'bank', colour: '#0b3954', points: seen.map(s => [s.year, s.bank])},
  ]);
  chart(el('sea'), 'fish density, as revealed', [
    {name: 'deep', colour: '#0072B2', points: seen.filter(s => s.density).map(s => [s.year, s.density[0]])},
    {name: 'coast', colour: '#D55E00', dash: '5 3', points: seen.filter(s => s.density).map(s => [s.year, s.density[1]])},
  ]);
  if (seat.status === 'done') {
    current = null; deadline = null; finished = true;
    el('status').textContent = 'The game is over. Thank you for playing.';
    el('question').hidden = true;
    return;
  }
  const q = seat.question;
  if (!q) {
    current = null; deadline = null;
    el('status').textContent = 'Waiting for the other teams…';
    el('question').hidden = true;
    return;
  }
  deadline = Date.now() + 1000 * (seat.seconds_left || 0);
  if (current && current.id === q.id) return;
  current = q;
  el('question').hidden = false;
  el('status').textContent = 'Year ' + q.year + ': ' + q.kind + (q.repair > 0 ? ' (asked again: see the last message)' : '');
  const box = el('prompt');
  box.replaceChildren();
  for (const m of q.messages) box.appendChild(text('pre', m.content, m.role));
  box.scrollTop = box.scrollHeight;
  buildForm(q.schema);
}

function tick() {
  if (deadline === null) { el('countdown').textContent = ''; return; }
  const s = Math.max(0, Math.round((deadline - Date.now()) / 1000));
  el('countdown').textContent = s + ' s left';
  el('countdown').className = s < 30 ? 'low' : '';
}
setInterval(tick, 500);

async function poll() {
  while (!finished) {
    try {
      const r = await fetch(base + '/state' + (version === null ? '' : '?since=' + version), {cache: 'no-store'});
      if (!r.ok) { el('status').textContent = 'This seat is not open.'; await sleep(5000); continue; }
      const s = await r.json();
      version = s.version;
      render(s.seat);
    } catch (e) {
      el('status').textContent = 'Connection lost; retrying…';
      await sleep(2000);
    }
  }
}
el('form').addEventListener('submit', submit);
poll();
"#;

/// The page of the person playing team `team`.
pub fn seat(team: usize) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Fishbanks — team {team}</title><style>{STYLE}</style></head><body>
<header><h1 id="team">Team {team}</h1><span id="status">Connecting…</span><span id="countdown"></span><span id="tally" class="note"></span></header>
<main>
<section><h2>What the game tells you</h2><p class="note">This is exactly what an AI captain in your seat is shown. Texts between &lt;&lt;&lt;DATA and DATA&gt;&gt;&gt; were written by other teams.</p><div id="prompt"></div></section>
<div>
<section id="question" hidden><h2>Your answer</h2><form id="form"></form><p class="note">An answer the rules do not allow is sent back with the reason, as it is to an AI captain.</p></section>
<section><h2>Your game so far</h2><svg id="bank" viewBox="0 0 300 130" width="100%"></svg><svg id="sea" viewBox="0 0 300 130" width="100%"></svg></section>
</div>
</main>
<script>{COMMON_JS}{SEAT_JS}</script></body></html>"#
    )
}

const FACILITATOR_JS: &str = r#"
const base = location.pathname.replace(/\/$/, '');
let version = null;
function render(s) {
  const rows = el('seats');
  rows.replaceChildren();
  for (const seat of s.seats) {
    const tr = document.createElement('tr');
    const asked = seat.asked ? (seat.asked.kind + ', year ' + seat.asked.year + (seat.asked.repair ? ' (asked again)' : '') + ', ' + Math.round(seat.seconds_left || 0) + ' s left') : '';
    const status = seat.status === 'asked' ? 'to answer: ' + asked : (seat.status === 'done' ? 'done' : 'waiting for others');
    const sea = seat.seen && seat.seen.density ? 'year ' + seat.seen.year + ': deep ' + seat.seen.density[0] + ', coast ' + seat.seen.density[1] : (seat.seen ? 'year ' + seat.seen.year + ' (densities not revealed)' : '');
    for (const v of ['team ' + seat.team, status, String(seat.answered), String(seat.timed_out), sea, seat.run_id]) tr.appendChild(text('td', v));
    rows.appendChild(tr);
  }
  const end = el('ending');
  end.replaceChildren();
  if (s.ending) {
    end.appendChild(text('p', 'The game is over. Results: ' + s.ending.results));
    s.ending.stories.forEach((run, i) => {
      const a = text('a', 'The story of run ' + run);
      a.href = base + '/story/' + i;
      end.append(a, document.createElement('br'));
    });
    if (s.ending.report) {
      const a = text('a', 'The report');
      a.href = base + '/report';
      end.appendChild(a);
    }
  }
}
async function poll() {
  for (;;) {
    try {
      const r = await fetch(base + '/state' + (version === null ? '' : '?since=' + version), {cache: 'no-store'});
      if (!r.ok) { await sleep(5000); continue; }
      const s = await r.json();
      version = s.version;
      render(s);
    } catch (e) { await sleep(2000); }
  }
}
poll();
"#;

/// The facilitator's page.
pub fn facilitator() -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Fishbanks — facilitator</title><style>{STYLE}</style></head><body>
<header><h1>Facilitator</h1><span class="note">every seat's status; the sea as the seats see it</span></header>
<main style="display:block">
<section><h2>Seats</h2><table><thead><tr><th>seat</th><th>status</th><th>answered</th><th>timed out</th><th>sea (as shown to the seat)</th><th>run</th></tr></thead><tbody id="seats"></tbody></table></section>
<section><h2>After the game</h2><div id="ending"><p class="note">The run's story and the report appear here when the game is over.</p></div></section>
</main>
<script>{COMMON_JS}{FACILITATOR_JS}</script></body></html>"#
    )
}
