//! The join page, the seat page and the facilitator's screen: HTML, CSS and JavaScript,
//! no data. Each page asks its `/state` for JSON (waiting for the next change) and writes
//! every recorded or typed text with `textContent`, so a message `<script>…` shows as
//! those characters and never runs. Script and style carry the response's CSP nonce;
//! nothing else may run.
//!
//! The seat page is written for a person but shows the facts an AI captain in the seat
//! is given (from the same typed payload a remote agent receives), asks through a form
//! built from the question's exact JSON schema, and sends the answer as that object: the
//! game validates it like any agent's. What the AI reads is one click away.

const STYLE: &str = r#"
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2733;background:#f3f6f9;font-size:16px}
header{background:#0b3954;color:#fff;padding:.7em 1.2em;display:flex;flex-wrap:wrap;gap:.4em 1.5em;align-items:baseline}
header h1{font-size:1.25em;margin:0}
main{display:grid;grid-template-columns:minmax(0,3fr) minmax(320px,2fr);gap:1em;padding:1em;max-width:1400px;margin:auto}
@media (max-width:900px){main{grid-template-columns:1fr}}
main.wide{display:block}
section{background:#fff;border:1px solid #d5dde5;border-radius:8px;padding:.9em 1.1em;margin-bottom:1em}
h2{font-size:1.05em;margin:.1em 0 .7em;color:#0b3954}
h3{font-size:.95em;margin:.3em 0}
#tally{color:#cde;font-size:.9em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:.6em}
.card{background:#f6f9fc;border-radius:6px;padding:.5em .7em}
.card .k{font-size:.8em;color:#566}
.card .v{font-size:1.35em;font-weight:650}
.card .v.small{font-size:1em}
svg[role=img]{display:block;max-width:640px}
.card .u{font-size:.8em;color:#566}
label.field{display:block;margin:.9em 0 .25em;font-weight:600}
.hint{font-weight:400;color:#566;font-size:.88em}
input[type=number],textarea{font-size:1.05em;padding:.35em .5em;width:100%;border:1px solid #aab;border-radius:5px}
input[type=number]{max-width:12em}
textarea{min-height:5em}
.choices label{display:inline-block;margin:.2em 1em .2em 0;font-weight:400}
button{font-size:1em;padding:.5em 1.3em;background:#0b3954;color:#fff;border:0;border-radius:5px;cursor:pointer}
button.secondary{background:#e4ebf1;color:#0b3954}
button:disabled{background:#99a;cursor:default}
.refused{background:#fdecea;border-left:4px solid #c0392b;padding:.5em .8em;margin:.5em 0;white-space:pre-wrap}
.fielderror{color:#c0392b;font-size:.9em;margin:.2em 0}
.rule{background:#eef6ee;border-left:4px solid #2e7d32;padding:.45em .8em;margin:.8em 0}
.rule.bad{background:#fdecea;border-color:#c0392b}
.ask{font-size:1.05em;margin:.2em 0 .6em}
#status{font-weight:600}
#countdown.low{color:#ffb3a7}
.badge{background:#f5b041;color:#222;border-radius:4px;padding:.1em .5em;font-weight:600}
.note{color:#566;font-size:.9em}
.msgs{display:flex;flex-direction:column;gap:.4em;max-height:24em;overflow:auto}
.msg{background:#f1f4f8;border-radius:8px;padding:.4em .7em;max-width:90%}
.msg.mine{background:#dcecf9;align-self:flex-end}
.msg .who{font-size:.8em;color:#566}
.msg .body{white-space:pre-wrap;overflow-wrap:anywhere}
pre{white-space:pre-wrap;font-size:12.5px;line-height:1.35;margin:.4em 0;padding:.5em;background:#f6f6f6;border-radius:4px}
pre.assistant{background:#fff4e5}
table{border-collapse:collapse;font-size:.95em;width:100%}th,td{border-bottom:1px solid #dde;padding:.35em .6em;text-align:left}
th{color:#566;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.legend{display:flex;flex-wrap:wrap;gap:.3em 1.2em;font-size:.85em;margin:.2em 0 .6em}
.legend span.swatch{display:inline-block;width:1.6em;height:.25em;vertical-align:middle;margin-right:.35em}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:.5em 1.2em}
.join-code{font-size:3.2em;font-weight:700;letter-spacing:.12em;color:#0b3954}
.join{display:flex;gap:2em;align-items:center;flex-wrap:wrap}
.join img{width:220px;height:220px;image-rendering:pixelated}
.teams{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:.7em}
.team{border:1px solid #d5dde5;border-radius:8px;padding:.8em;background:#fff}
noscript p{background:#fdecea;padding:1em;margin:1em}
"#;

/// The charts and helpers every page shares.
const COMMON_JS: &str = r#"
const el = id => document.getElementById(id);
const sleep = ms => new Promise(r => setTimeout(r, ms));
function text(tag, content, cls) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (cls) node.className = cls;
  return node;
}
const money = v => (v < 0 ? '-$' : '$') + Math.abs(Math.round(v)).toLocaleString('en-US');
const fish = v => Math.round(v).toLocaleString('en-US');
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#999933'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3', '', '6 3', '2 3', '8 3 2 3'];
function svgNode(tag, attrs, content) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (content !== undefined) node.textContent = content;
  return node;
}
function niceTicks(lo, hi, n) {
  const span = hi - lo || 1;
  const step0 = span / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= step0) || step0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}
// A line chart with both axes titled, every year labelled on x, a few ticks on y, and
// its legend outside the plot (in the element `legendId`). `series`: {name, points:
// [[year, value]], colour, dash}; `lines`: horizontal references {name, value, colour}.
function chart(svg, legend, opts, series, lines) {
  svg.replaceChildren();
  const W = 420, H = 220, L = 72, R = 10, T = 10, B = 38;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  const pts = series.flatMap(s => s.points);
  const refs = lines || [];
  if (pts.length === 0) {
    svg.appendChild(svgNode('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle', 'font-size': 13, fill: '#778'}, 'nothing played yet'));
    if (legend) legend.replaceChildren();
    return;
  }
  const years = pts.map(p => p[0]);
  const first = Math.min(...years), last = Math.max(...years, opts.lastYear || 0);
  const x0 = first - 0.5, x1 = last + 0.5;
  const ys = pts.map(p => p[1]).concat(refs.map(r => r.value));
  let y0 = Math.min(0, ...ys), y1 = Math.max(...ys);
  if (y1 <= y0) y1 = y0 + 1;
  const ticks = niceTicks(y0, y1, 4);
  y1 = Math.max(y1 * 1.04, ticks[ticks.length - 1]);
  const X = x => L + (x - x0) / (x1 - x0) * (W - L - R);
  const Y = y => H - B - (y - y0) / (y1 - y0) * (H - B - T);
  for (const t of ticks) {
    svg.appendChild(svgNode('line', {x1: L, x2: W - R, y1: Y(t), y2: Y(t), stroke: '#e3e8ee'}));
    svg.appendChild(svgNode('text', {x: L - 6, y: Y(t) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#445'}, opts.format ? opts.format(t) : String(t)));
  }
  // Every year labelled (every other one past 25 years, where they would touch).
  const every = last - first > 50 ? 5 : (last - first > 25 ? 2 : 1);
  for (let yr = first; yr <= last; yr++) {
    if ((yr - first) % every !== 0 && yr !== last) continue;
    svg.appendChild(svgNode('text', {x: X(yr), y: H - B + 15, 'text-anchor': 'middle', 'font-size': 11, fill: '#445'}, String(yr)));
  }
  svg.appendChild(svgNode('line', {x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: '#889'}));
  svg.appendChild(svgNode('line', {x1: L, x2: L, y1: T, y2: H - B, stroke: '#889'}));
  svg.appendChild(svgNode('text', {x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle', 'font-size': 12, fill: '#223'}, 'year'));
  svg.appendChild(svgNode('text', {x: 12, y: (T + H - B) / 2, 'text-anchor': 'middle', 'font-size': 12, fill: '#223', transform: 'rotate(-90 12 ' + (T + H - B) / 2 + ')'}, opts.yTitle));
  for (const r of refs) {
    svg.appendChild(svgNode('line', {x1: L, x2: W - R, y1: Y(r.value), y2: Y(r.value), stroke: r.colour, 'stroke-dasharray': '3 4', 'stroke-width': 1.5}));
  }
  series.forEach(s => {
    if (s.points.length > 1) {
      const line = svgNode('polyline', {fill: 'none', stroke: s.colour, 'stroke-width': 2.2, points: s.points.map(p => X(p[0]) + ',' + Y(p[1])).join(' ')});
      if (s.dash) line.setAttribute('stroke-dasharray', s.dash);
      svg.appendChild(line);
    }
    for (const p of s.points) svg.appendChild(svgNode('circle', {cx: X(p[0]), cy: Y(p[1]), r: 3, fill: s.colour}));
  });
  if (legend) {
    legend.replaceChildren();
    for (const s of series.concat(refs.map(r => ({name: r.name, colour: r.colour, dash: '3 4', ref: true})))) {
      const item = document.createElement('span');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = s.ref ? 'repeating-linear-gradient(90deg,' + s.colour + ' 0 4px,transparent 4px 7px)' : s.colour;
      item.append(sw, s.name);
      legend.appendChild(item);
    }
  }
}
function chartBox(parent, id, title) {
  const box = document.createElement('div');
  box.appendChild(text('h3', title));
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.id = id;
  svg.setAttribute('width', '100%');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  const legend = document.createElement('div');
  legend.className = 'legend';
  legend.id = id + '-legend';
  box.append(svg, legend);
  parent.appendChild(box);
  return [svg, legend];
}
function card(parent, key, value, unit) {
  const c = document.createElement('div');
  c.className = 'card';
  c.append(text('div', key, 'k'), text('div', value, value.length > 9 ? 'v small' : 'v'));
  if (unit) c.appendChild(text('div', unit, 'u'));
  parent.appendChild(c);
}
// The final ranking of a run: [{team, who, assets}], best first.
function ranking(years, roster) {
  if (!years.length) return [];
  const last = years[years.length - 1];
  return last.assets.map((a, i) => ({team: i + 1, who: roster[i] === 'human' ? 'person' : (roster[i] || ''), assets: a}))
    .sort((a, b) => b.assets - a.assets || a.team - b.team);
}
function rankingTable(parent, years, roster, mine) {
  const table = document.createElement('table');
  const head = document.createElement('tr');
  for (const h of ['rank', 'team', 'played by', 'assets']) head.appendChild(text('th', h));
  table.appendChild(head);
  ranking(years, roster).forEach((r, i) => {
    const tr = document.createElement('tr');
    tr.append(text('td', String(i + 1)), text('td', 'Team ' + r.team + (r.team === mine ? ' (you)' : '')), text('td', r.who), text('td', money(r.assets), 'num'));
    if (r.team === mine) tr.style.fontWeight = '700';
    table.appendChild(tr);
  });
  parent.appendChild(table);
}
function seaChart(svg, legend, years, sea, lastYear) {
  chart(svg, legend, {yTitle: 'fish', format: fish, lastYear}, [
    {name: 'deep sea', colour: PALETTE[0], points: years.map(y => [y.year, y.stock[0]])},
    {name: 'coast', colour: PALETTE[1], dash: '6 3', points: years.map(y => [y.year, y.stock[1]])},
  ], [
    {name: 'most productive deep-sea stock', value: sea.most_productive[0], colour: PALETTE[0]},
    {name: 'most productive coast stock', value: sea.most_productive[1], colour: PALETTE[1]},
  ]);
}
// One line per team; teams whose lines coincide share one line, named together.
function byTeam(svg, legend, years, pick, title, format) {
  const teams = years.length ? years[0].assets.length : 0;
  const groups = [];
  for (let t = 0; t < teams; t++) {
    const points = years.map(y => [y.year, pick(y, t)]);
    const key = JSON.stringify(points);
    const same = groups.find(g => g.key === key);
    if (same) same.teams.push(t + 1); else groups.push({key, points, teams: [t + 1]});
  }
  const series = groups.map((g, i) => ({
    name: g.teams.length === 1 ? 'team ' + g.teams[0] : 'teams ' + g.teams.slice(0, -1).join(', ') + ' and ' + g.teams[g.teams.length - 1] + ' (the same)',
    colour: PALETTE[(g.teams[0] - 1) % 8], dash: DASHES[i % 8], points: g.points,
  }));
  chart(svg, legend, {yTitle: title, format}, series);
}
async function post(url, body) {
  return fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body || {})});
}
"#;

const SEAT_JS: &str = r#"
const base = location.pathname.replace(/\/$/, '');
let version = null, current = null, deadline = null, finished = false, paused = false;
let sending = null; // the question id whose answer is on its way

// Words for the answer fields a question may have (the JSON names stay the schema's).
function labelOf(name, payload) {
  const o = (payload && payload.observation) || {}, own = o.own || {}, pub = o.public || {};
  const words = {
    order: ['New ships to order', 'ships, ' + (pub.ship_price !== undefined ? money(pub.ship_price) + ' each' : '') + (own.order_limit !== undefined ? '; at most ' + own.order_limit : '')],
    deep: ['Ships to send to the deep sea', 'ships'],
    coast: ['Ships to send to the coast', 'ships'],
    tac: ['Total allowable catch', 'fish per year, all teams together'],
    set_by: ['Set by', 'team number'],
    accept: ['Do you accept?', ''],
    reason: ['Why', 'a few words, optional'],
    message: ['Your message to the other teams', 'others read it as written'],
    to: ['Send it to', 'tick none to send it to everyone'],
    fine: ['Teams to fine', 'tick none to fine nobody'],
    leader: ['Your vote for leader', 'a team'],
    catch: ['Catch you report', 'fish'],
    agenda: ['Your agenda', 'what you would do as leader'],
    lesson: ['Your lesson for the next generation', ''],
    ships: ['Ships', 'ships'],
    price: ['Price per ship', 'dollars'],
    take: ['Offers to take', ''],
    reasoning: ['Your reasoning', ''],
  };
  if (words[name]) return words[name];
  return [name.replace(/_/g, ' '), ''];
}

// The answer's fields from its JSON schema: a decision's schema lists one branch per
// deep-sea count; the form offers the widest bounds, and the rule (deep + coast ≤ ships)
// is shown as the person types; the game checks the exact schema.
function fieldsOf(schema) {
  const branches = (schema && schema.anyOf) ? schema.anyOf : [schema || {}];
  const props = {}, order = [];
  for (const b of branches) {
    for (const [k, v] of Object.entries(b.properties || {})) {
      const w = JSON.parse(JSON.stringify(v));
      if (w.const !== undefined) { w.minimum = w.const; w.maximum = w.const; w.type = 'integer'; delete w.const; }
      if (!props[k]) { props[k] = w; order.push(k); continue; }
      const p = props[k];
      if (w.minimum !== undefined) p.minimum = Math.min(p.minimum ?? w.minimum, w.minimum);
      if (w.maximum !== undefined) p.maximum = Math.max(p.maximum ?? w.maximum, w.maximum);
      if (w.enum) p.enum = [...new Set([...(p.enum || []), ...w.enum])].sort((a, b) => a - b);
    }
  }
  const required = new Set(branches[0].required || []);
  const listed = (branches[0].required || []).filter(k => props[k]);
  const rest = order.filter(k => !listed.includes(k));
  return [...listed, ...rest].map(k => [k, props[k], required.has(k)]);
}

// What a field starts with: on a re-ask, what the person sent (never lost); for a decision
// after year 1, last year's; otherwise nothing, so an answer is always the person's choice.
function defaultOf(name, payload, previous) {
  if (previous && previous[name] !== undefined) return previous[name];
  const last = payload && payload.observation && payload.observation.own && payload.observation.own.last_decision;
  if (payload && payload.question === 'decision' && payload.year > 1 && last && last[name] !== undefined) return last[name];
  return null;
}

// The answer a re-ask refused: the person's own object, sent as JSON by this page.
function refusedAnswer(q) {
  if (!q.repair) return null;
  const mine = q.payload.prompt.filter(m => m.role === 'assistant');
  try { return JSON.parse(mine[mine.length - 1].content); } catch (e) { return null; }
}

function buildForm(q) {
  const form = el('form');
  form.replaceChildren();
  const payload = q.payload || {};
  const schema = payload.schema || {};
  const previous = refusedAnswer(q);
  el('ask').textContent = q.ask || '';
  const refused = el('refused');
  refused.hidden = !q.refused;
  // The reason an AI captain is re-asked with, without the line about JSON a person
  // never writes (the form does).
  const reason = q.refused ? q.refused.split('\n')[0].replace(/\s*Answer again with only one JSON object.*$/, '') : '';
  refused.textContent = reason ? 'Your last answer was not accepted: ' + reason : '';
  for (const [name, s, required] of fieldsOf(schema)) {
    const [words, unit] = labelOf(name, payload);
    const label = text('label', words + ' ', 'field');
    label.htmlFor = 'field-' + name;
    const range = s.type === 'integer' && s.minimum !== undefined ? (s.maximum !== undefined && s.maximum < 1e12 ? ' (' + s.minimum + '–' + s.maximum + ')' : ' (' + s.minimum + ' or more)') : '';
    label.appendChild(text('span', [unit, range.trim()].filter(Boolean).join(' ') , 'hint'));
    form.appendChild(label);
    let input;
    if (s.type === 'object') {
      // A set: one box per member (`team 2`, `offer 1`); the answer marks each true or
      // false. Its schema lists the members, or every allowed object when fewer may be
      // chosen than there are members.
      input = document.createElement('div');
      input.className = 'choices';
      input.dataset.kind = 'set';
      const members = Object.keys(s.properties || (s.enum || [{}])[0] || {});
      const before = defaultOf(name, payload, previous) || {};
      for (const key of members) {
        const box = document.createElement('label');
        const c = document.createElement('input');
        c.type = 'checkbox'; c.value = key;
        c.checked = before[key] === true;
        box.append(c, ' ' + key);
        input.appendChild(box);
      }
      if (s.enum) {
        const most = Math.max(0, ...s.enum.map(o => Object.values(o).filter(v => v === true).length));
        label.appendChild(text('span', ' at most ' + most, 'hint'));
      }
    } else if (s.enum || s.type === 'boolean') {
      input = document.createElement('div');
      input.className = 'choices';
      input.dataset.kind = s.type === 'boolean' ? 'boolean' : 'integer';
      const values = s.type === 'boolean' ? [true, false] : s.enum;
      for (const v of values) {
        const box = document.createElement('label');
        const r = document.createElement('input');
        r.type = 'radio'; r.name = 'radio-' + name; r.value = String(v);
        r.checked = defaultOf(name, payload, previous) === v;
        box.append(r, ' ' + (v === true ? 'yes' : v === false ? 'no' : (name === 'leader' ? 'team ' + v : String(v))));
        input.appendChild(box);
      }
    } else if (s.type === 'integer' || s.type === 'number') {
      input = document.createElement('input');
      input.type = 'number'; input.step = 1; input.inputMode = 'numeric';
      if (s.minimum !== undefined) input.min = s.minimum;
      if (s.maximum !== undefined && s.maximum < 1e12) input.max = s.maximum;
      const d = defaultOf(name, payload, previous);
      input.value = d === null ? '' : d;
      input.placeholder = 'a whole number';
      input.dataset.kind = 'integer';
      input.addEventListener('input', showRule);
    } else {
      input = document.createElement('textarea');
      if (s.maxLength !== undefined) { input.maxLength = s.maxLength; label.appendChild(text('span', ' (at most ' + s.maxLength + ' characters)', 'hint')); }
      input.dataset.kind = 'string';
      const d = defaultOf(name, payload, previous);
      if (typeof d === 'string') input.value = d;
    }
    input.id = 'field-' + name;
    input.dataset.name = name;
    input.dataset.required = required ? '1' : '';
    form.appendChild(input);
    // The re-ask's reason next to the field it names.
    if (reason && reason.includes('`' + name + '`')) form.appendChild(text('div', reason, 'fielderror'));
  }
  const rule = text('div', '', 'rule');
  rule.id = 'rule';
  form.appendChild(rule);
  const send = text('button', 'Send my answer');
  send.type = 'submit';
  send.id = 'send';
  form.appendChild(send);
  showRule();
}

// The decision's rule, shown before submitting.
function showRule() {
  const rule = el('rule');
  if (!rule || !current) return;
  const payload = current.payload || {};
  const own = (payload.observation || {}).own || {};
  if (payload.question !== 'decision' || own.ships === undefined) { rule.hidden = true; return; }
  rule.hidden = false;
  const v = n => { const f = el('field-' + n); return f && f.value !== '' ? Number(f.value) : null; };
  const deep = v('deep'), coast = v('coast'), order = v('order');
  const atSea = (deep || 0) + (coast || 0);
  let words = 'You have ' + own.ships + ' ships: deep sea + coast may be at most ' + own.ships + '; the rest stay in the harbor. ';
  if (deep !== null || coast !== null) words += 'Now: ' + atSea + ' at sea, ' + Math.max(0, own.ships - atSea) + ' in the harbor. ';
  if (order !== null) words += 'Ordered ships arrive next year.';
  rule.textContent = words;
  rule.className = atSea > own.ships || (order !== null && own.order_limit !== undefined && order > own.order_limit) ? 'rule bad' : 'rule';
}

function answerOf() {
  const out = {}, missing = [];
  for (const node of el('form').querySelectorAll('[data-kind]')) {
    const k = node.dataset.kind, name = node.dataset.name;
    let value;
    if (k === 'set') value = Object.fromEntries([...node.querySelectorAll('input')].map(c => [c.value, c.checked]));
    else if (k === 'integer' || k === 'boolean') {
      const raw = node.tagName === 'INPUT' ? node.value : (node.querySelector('input:checked') || {}).value;
      if (raw === undefined || raw === '') { if (node.dataset.required) missing.push(labelOf(name, current.payload)[0]); continue; }
      value = k === 'boolean' ? raw === 'true' : Number(raw);
    } else value = node.value;
    out[name] = value;
  }
  return [out, missing];
}

function say(words, forQuestion) {
  // A status about an answer never covers a newer question.
  if (forQuestion !== undefined && (!current || current.id !== forQuestion)) return;
  el('status').textContent = words;
}

async function submit(ev) {
  ev.preventDefault();
  if (!current || sending === current.id) return;
  const [answer, missing] = answerOf();
  if (missing.length) { el('formerror').textContent = 'Please fill in: ' + missing.join(', ') + '.'; return; }
  el('formerror').textContent = '';
  const id = current.id;
  sending = id;
  el('send').disabled = true;
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await post(base + '/answer', {question: id, answer});
      if (r.status === 202) { say('Answer sent: the game checks it…', id); break; }
      if (r.status === 409) { say('That question closed before your answer arrived.', id); break; }
      if (r.status === 422 || r.status === 400) {
        const body = await r.json().catch(() => ({}));
        el('formerror').textContent = body.error || 'The answer could not be read.';
        el('send').disabled = false;
        sending = null;
        return;
      }
      if (r.status === 404) { say('This seat is no longer yours (released by the facilitator).', id); break; }
      throw new Error('HTTP ' + r.status);
    } catch (e) {
      if (!current || current.id !== id) break;
      say('Could not reach the game; sending again (attempt ' + (attempt + 1) + ')…', id);
      await sleep(Math.min(8000, 500 * 2 ** Math.min(attempt, 4)));
    }
  }
}

function dashboard(seat) {
  const payload = seat.payload;
  const box = el('cards');
  box.replaceChildren();
  if (!payload || !payload.observation) { box.appendChild(text('p', 'Your fleet appears here with the first question.', 'note')); return; }
  const o = payload.observation, own = o.own, pub = o.public;
  card(box, 'Year', pub.year + ' of ' + pub.years_total, pub.years_left + ' left after this one');
  card(box, 'Ships', String(own.ships), own.order_limit !== undefined ? 'may order up to ' + own.order_limit : '');
  card(box, 'Bank', money(own.bank), '');
  card(box, 'Assets', money(own.assets), 'bank + ships at ' + money(pub.ship_value) + ' each');
  card(box, 'Last catch', fish(own.last_catch[0] + own.last_catch[1]), 'deep ' + fish(own.last_catch[0]) + ', coast ' + fish(own.last_catch[1]));
  card(box, 'Fish price', money(pub.fish_price), 'per fish');
  card(box, 'Ship costs', money(pub.costs[0]) + ' / ' + money(pub.costs[1]) + ' / ' + money(pub.costs[2]), 'per ship a year: deep / coast / harbor');
  const sea = el('sea-words');
  sea.textContent = pub.density
    ? 'The sea as revealed: the deep sea is ' + Math.round(pub.density[0] * 100) + '% full, the coast ' + Math.round(pub.density[1] * 100) + '% full.'
    : 'The game does not reveal how many fish are left.';
  if (pub.catch_per_ship) sea.textContent += ' Last year a ship caught ' + pub.catch_per_ship[0].toFixed(1) + ' fish in the deep sea and ' + pub.catch_per_ship[1].toFixed(1) + ' at the coast.';
  conversation(o.board || {}, own.team);
  const facts = el('facts');
  facts.replaceChildren();
  for (const [k, v] of Object.entries(o.board || {})) {
    if (['messages', 'earlier_messages'].includes(k) || v === null || (Array.isArray(v) && !v.length)) continue;
    const d = document.createElement('details');
    d.appendChild(text('summary', k.replace(/_/g, ' ')));
    d.appendChild(text('pre', JSON.stringify(v, null, 1)));
    facts.appendChild(d);
  }
}

function conversation(board, me) {
  const box = el('messages');
  box.replaceChildren();
  const all = [...(board.earlier_messages || []), ...(board.messages || [])];
  if (!all.length) { box.appendChild(text('p', 'No messages yet.', 'note')); return; }
  for (const m of all) {
    const b = document.createElement('div');
    b.className = 'msg' + (m.from === me ? ' mine' : '');
    const to = m.to && m.to.length ? ' to team ' + m.to.join(', ') : ' to everyone';
    b.append(text('div', (m.from === me ? 'You' : 'Team ' + m.from) + to + ', year ' + m.year + (m.round ? ', round ' + m.round : ''), 'who'), text('div', m.text, 'body'));
    box.appendChild(b);
  }
  box.scrollTop = box.scrollHeight;
}

// The seat's own years: from its memory (what its prompt lists, also across a resume)
// and from what this page saw at the start of each year.
function history(seat) {
  const payload = seat.payload || {};
  const after = new Map();
  for (const m of payload.memory || []) after.set(m.year, {bank: m.bank_after, density: m.density_after});
  for (const s of seat.seen || []) if (s.year > 1) after.set(s.year - 1, {bank: s.bank, density: s.density});
  const years = [...after.keys()].sort((a, b) => a - b);
  chart(el('bank'), el('bank-legend'), {yTitle: 'dollars', format: money}, [
    {name: 'your bank after each year', colour: PALETTE[0], points: years.map(y => [y, after.get(y).bank])},
  ]);
  const revealed = years.filter(y => after.get(y).density);
  chart(el('density'), el('density-legend'), {yTitle: 'share of capacity', format: v => Math.round(v * 100) + '%'}, [
    {name: 'deep sea', colour: PALETTE[0], points: revealed.map(y => [y, after.get(y).density[0]])},
    {name: 'coast', colour: PALETTE[1], dash: '6 3', points: revealed.map(y => [y, after.get(y).density[1]])},
  ]);
}

function ending(state) {
  const seat = state.seat, d = state.debrief;
  el('question').hidden = true;
  const end = el('ending');
  end.hidden = false;
  end.replaceChildren(text('h2', 'The game is over'));
  if (!d || !d.years.length) { end.appendChild(text('p', 'Thank you for playing.')); return; }
  const last = d.years[d.years.length - 1];
  const mine = seat.team;
  const place = ranking(d.years, d.roster).findIndex(r => r.team === mine) + 1;
  end.appendChild(text('p', ''));
  end.lastChild.textContent = 'Team ' + mine + ' finished ' + (place === 1 ? 'first' : 'in place ' + place) + ' of ' + last.assets.length + ' with ' + money(last.assets[mine - 1]) + ' in assets, after ' + last.year + ' years.' + (d.years.some(y => y.collapsed) ? ' The fish collapsed in year ' + d.years.find(y => y.collapsed).year + '.' : ' The fish never collapsed.');
  rankingTable(end, d.years, d.roster, mine);
  const charts = document.createElement('div');
  charts.className = 'charts';
  end.appendChild(charts);
  const [s1, l1] = chartBox(charts, 'end-sea', 'The sea as it really was: fish at the end of each year');
  seaChart(s1, l1, d.years, d.sea);
  const [s2, l2] = chartBox(charts, 'end-assets', 'Assets of every team');
  byTeam(s2, l2, d.years, (y, t) => y.assets[t], 'dollars', money);
}

function render(state) {
  const seat = state.seat;
  el('team').textContent = 'Team ' + seat.team;
  el('tally').textContent = seat.answered + ' answered, ' + seat.timed_out + ' timed out';
  paused = seat.paused;
  el('paused').hidden = !paused;
  dashboard(seat);
  history(seat);
  if (seat.status === 'done') {
    current = null; deadline = null; finished = true;
    say('The game is over. Thank you for playing.');
    ending(state);
    return;
  }
  if (seat.status === 'stopped') {
    current = null; deadline = null;
    say('The game was stopped by its host. Keep this page open: it goes on when the game resumes.');
    el('question').hidden = true;
    return;
  }
  const q = seat.question;
  if (!q) {
    current = null; deadline = null;
    if (sending === null) say('Waiting for the other teams…');
    else say('Answer received. Waiting for the other teams…');
    sending = null;
    el('question').hidden = true;
    return;
  }
  deadline = Date.now() + 1000 * (seat.seconds_left || 0);
  if (current && current.id === q.id) return;
  // The question with its facts (the view keeps them once, beside the question).
  current = Object.assign({payload: seat.payload || {prompt: []}}, q);
  sending = null;
  el('question').hidden = false;
  say('Year ' + q.year + ': ' + q.kind.replace(/_/g, ' ') + (q.repair > 0 ? ' (asked again)' : ''));
  const box = el('prompt');
  box.replaceChildren();
  for (const m of current.payload.prompt) box.appendChild(text('pre', m.content, m.role));
  el('formerror').textContent = '';
  buildForm(current);
}

function tick() {
  if (deadline === null) { el('countdown').textContent = ''; return; }
  if (paused) { el('countdown').textContent = 'clock paused'; return; }
  const s = Math.max(0, Math.round((deadline - Date.now()) / 1000));
  el('countdown').textContent = s + ' s left';
  el('countdown').className = s < 30 ? 'low' : '';
}
setInterval(tick, 500);

async function poll() {
  while (!finished) {
    try {
      const r = await fetch(base + '/state' + (version === null ? '' : '?since=' + version), {cache: 'no-store'});
      if (r.status === 404) { say('This seat is not open here any more (released by the facilitator): join again.'); await sleep(5000); continue; }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const s = await r.json();
      version = s.version;
      render(s);
      tick();
    } catch (e) {
      say('Connection lost; reconnecting…');
      await sleep(2000);
    }
  }
}
el('form').addEventListener('submit', submit);
poll();
"#;

const NOSCRIPT: &str = "<noscript><p>This page needs JavaScript to show the game and send your answers. Please turn it on, or ask the facilitator for help.</p></noscript>";

/// The page of the person playing team `team`.
pub fn seat(team: usize, nonce: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Fishbanks — team {team}</title><style nonce="{nonce}">{STYLE}</style></head><body>
<header><h1 id="team">Team {team}</h1><span id="status">Connecting…</span><span id="countdown"></span><span id="paused" class="badge" hidden>paused by the facilitator</span><span id="tally"></span></header>
{NOSCRIPT}
<main>
<div>
<section><h2>Your fleet</h2><div class="cards" id="cards"></div><p id="sea-words"></p></section>
<section><h2>Messages</h2><div class="msgs" id="messages"></div><div id="facts"></div></section>
<section><h2>Your game so far</h2><div class="charts"><div><h3>Your bank</h3><svg id="bank" width="100%" role="img" aria-label="your bank"></svg><div class="legend" id="bank-legend"></div></div><div><h3>The sea as revealed to you</h3><svg id="density" width="100%" role="img" aria-label="fish density"></svg><div class="legend" id="density-legend"></div></div></div></section>
</div>
<div>
<section id="question" hidden><h2>Your answer</h2><p class="ask" id="ask"></p><div class="refused" id="refused" hidden></div><form id="form" novalidate></form><p class="fielderror" id="formerror"></p>
<details><summary>What an AI captain in this seat reads</summary><p class="note">The same question, word for word, as a language model in your seat gets it. Texts between &lt;&lt;&lt;DATA and DATA&gt;&gt;&gt; were written by other teams.</p><div id="prompt"></div></details></section>
<section id="ending" hidden></section>
</div>
</main>
<script nonce="{nonce}">{COMMON_JS}{SEAT_JS}</script></body></html>"#
    )
}

const JOIN_JS: &str = r#"
const base = location.pathname.replace(/\/$/, '');
async function load() {
  const r = await fetch(base + '/state', {cache: 'no-store'});
  if (!r.ok) { el('teams').replaceChildren(text('p', 'This join code is not open.')); return; }
  const s = await r.json();
  const box = el('teams');
  box.replaceChildren();
  if (s.yours) {
    const p = document.createElement('p');
    const a = text('a', 'Continue as team ' + s.yours.team);
    a.href = s.yours.seat;
    p.append('This browser holds team ' + s.yours.team + '. ', a);
    el('yours').replaceChildren(p);
  }
  for (const t of s.teams) {
    const div = document.createElement('div');
    div.className = 'team';
    div.appendChild(text('h2', 'Team ' + t.team));
    if (t.who !== 'person') div.appendChild(text('p', 'played by ' + t.who, 'note'));
    else if (!t.open) div.appendChild(text('p', 'taken', 'note'));
    else {
      const b = text('button', 'Take this seat');
      b.addEventListener('click', () => claim(t.team, b));
      div.appendChild(b);
    }
    box.appendChild(div);
  }
}
async function claim(team, button) {
  button.disabled = true;
  try {
    const r = await post(base + '/claim', {team});
    const body = await r.json();
    if (r.ok) { location.href = body.seat; return; }
    el('error').textContent = body.error || 'That seat could not be taken.';
  } catch (e) {
    el('error').textContent = 'Could not reach the game; try again.';
  }
  button.disabled = false;
  load();
}
load();
setInterval(load, 4000);
"#;

/// The join page: students pick a free team.
pub fn join(nonce: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Fishbanks — join the game</title><style nonce="{nonce}">{STYLE}</style></head><body>
<header><h1>Fishbanks: pick your team</h1></header>
{NOSCRIPT}
<main class="wide"><section><p>You run a fishing fleet on a sea shared with the other teams. Pick a free team: the seat is then yours in this browser.</p><div id="yours"></div><p class="fielderror" id="error"></p><div class="teams" id="teams"></div></section></main>
<script nonce="{nonce}">{COMMON_JS}{JOIN_JS}</script></body></html>"#
    )
}

const FACILITATOR_JS: &str = r#"
const base = location.pathname.replace(/\/$/, '');
let version = null;
function teamRows(s) {
  const rows = el('teams');
  rows.replaceChildren();
  for (const t of s.teams) {
    const tr = document.createElement('tr');
    let status = '';
    if (t.who === 'person') {
      if (!t.taken) status = 'waiting for a student to join';
      else if (t.status === 'asked') status = 'answering: ' + t.asked.kind.replace(/_/g, ' ') + ', year ' + t.asked.year + (t.asked.repair ? ' (asked again)' : '') + ', ' + Math.round(t.seconds_left || 0) + ' s left';
      else if (t.status === 'done') status = 'done';
      else if (t.status === 'stopped') status = 'stopped';
      else status = 'waiting for the others';
    } else status = 'plays by itself';
    tr.append(text('td', 'Team ' + t.team), text('td', t.who), text('td', status));
    tr.appendChild(text('td', t.who === 'person' ? t.answered + ' answered, ' + t.timed_out + ' timed out' : ''));
    const act = document.createElement('td');
    if (t.who === 'person' && t.taken && !s.ending) {
      const b = text('button', 'Release', 'secondary');
      b.addEventListener('click', () => post(base + '/release/' + t.team));
      act.appendChild(b);
    }
    tr.appendChild(act);
    rows.appendChild(tr);
  }
}
function render(s) {
  el('code').textContent = s.join.code;
  const urls = el('urls');
  urls.replaceChildren();
  for (const u of s.join.urls) urls.appendChild(text('div', u + '/join/' + s.join.code));
  el('pause').textContent = s.paused ? 'Resume the clock' : 'Pause the clock';
  el('pause').dataset.paused = s.paused ? '1' : '';
  el('paused').hidden = !s.paused;
  teamRows(s);
  const run = s.years.length ? s.years[s.years.length - 1].run_id : null;
  const years = s.years.filter(y => y.run_id === run);
  const roster = s.teams.map(t => t.who);
  seaChart(el('sea'), el('sea-legend'), years, s.sea);
  el('year').textContent = years.length ? 'after year ' + years[years.length - 1].year + (years.some(y => y.collapsed) ? ' (collapsed in year ' + years.find(y => y.collapsed).year + ')' : '') : 'before year 1';
  const end = el('debrief');
  if (!s.ending) { end.hidden = true; return; }
  end.hidden = false;
  el('pause').hidden = true;
  el('extend').hidden = true;
  el('join-panel').hidden = true;
  const body = el('debrief-body');
  body.replaceChildren();
  body.appendChild(text('p', 'Results in ' + s.ending.results + '.'));
  rankingTable(body, years, roster, null);
  const charts = document.createElement('div');
  charts.className = 'charts';
  body.appendChild(charts);
  const [a, al] = chartBox(charts, 'd-sea', 'Fish at the end of each year, against the most productive stock');
  seaChart(a, al, years, s.sea);
  const [b, bl] = chartBox(charts, 'd-catch', 'Catch of each team');
  byTeam(b, bl, years, (y, t) => y.catch[t], 'fish', fish);
  const [c, cl] = chartBox(charts, 'd-assets', 'Assets of each team');
  byTeam(c, cl, years, (y, t) => y.assets[t], 'dollars', money);
  const links = document.createElement('p');
  s.ending.stories.forEach((run, i) => {
    const l = text('a', 'The story of ' + run);
    l.href = base + '/story/' + i;
    links.append(l, ' · ');
  });
  if (s.ending.report) { const l = text('a', 'The report'); l.href = base + '/report'; links.append(l, ' · '); }
  const x = text('a', 'Messages for a spreadsheet (CSV)');
  x.href = base + '/messages.csv';
  links.appendChild(x);
  body.appendChild(links);
}
el('qr').src = base + '/qr.svg';
el('pause').addEventListener('click', () => post(base + (el('pause').dataset.paused ? '/resume' : '/pause')));
el('extend').addEventListener('click', () => post(base + '/extend', {seconds: 60}));
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

/// The facilitator's screen (made to be projected: it never shows a seat's address).
pub fn facilitator(nonce: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Fishbanks — facilitator</title><style nonce="{nonce}">{STYLE}</style></head><body>
<header><h1>Fishbanks</h1><span>facilitator</span><button id="pause" class="secondary">Pause the clock</button><button id="extend" class="secondary">+1 minute for open questions</button><span id="paused" class="badge" hidden>clock paused</span></header>
{NOSCRIPT}
<main class="wide">
<section id="join-panel"><h2>Join the game</h2><div class="join"><img alt="QR code of the join address" id="qr"><div><p>Open this address and pick a free team:</p><div id="urls" class="note"></div><p>Join code</p><div class="join-code" id="code"></div></div></div></section>
<section><h2>Teams</h2><table><thead><tr><th>team</th><th>played by</th><th>now</th><th>answers</th><th></th></tr></thead><tbody id="teams"></tbody></table></section>
<section><h2>The sea as it really is, <span id="year"></span></h2><svg id="sea" width="100%" role="img" aria-label="fish stocks"></svg><div class="legend" id="sea-legend"></div><p class="note">Students see only what the game reveals to them; this chart is the truth.</p></section>
<section id="debrief" hidden><h2>Debrief</h2><div id="debrief-body"></div></section>
</main>
<script nonce="{nonce}">{COMMON_JS}{FACILITATOR_JS}</script></body></html>"#
    )
}

#[cfg(test)]
mod tests {
    /// Every page carries its nonce on its one script and one style, and no inline
    /// handler or style attribute that a nonce-only CSP would block.
    #[test]
    fn pages_run_only_nonced_script_and_style() {
        for html in [
            super::seat(2, "N0NCE"),
            super::join("N0NCE"),
            super::facilitator("N0NCE"),
        ] {
            assert_eq!(html.matches("<script").count(), 1);
            assert_eq!(html.matches("<script nonce=\"N0NCE\">").count(), 1);
            assert_eq!(html.matches("<style nonce=\"N0NCE\">").count(), 1);
            assert!(
                !html.contains(" style=\""),
                "inline style attributes are blocked"
            );
            assert!(!html.contains(" onclick="), "inline handlers are blocked");
            assert!(html.contains("<noscript>"));
        }
        assert!(
            !super::facilitator("N").contains("/seat/"),
            "the projected page never names a seat's address"
        );
    }
}
