// A student's seat: the question first (its form built from the question's exact JSON
// schema, the answer sent as that object, which the game validates like any agent's),
// what the game applied when a question fell back, the team's facts and charts, and the
// end of the game. The state comes from GET /seat/TOKEN/state, a long poll.
const base = location.pathname.replace(/\/$/, '');
let version = null, current = null, deadline = null, finished = false, paused = false;
let stopped = false;
// The question whose answer is on its way, and how many of the seat's questions had
// ended when it was sent (so the page knows when the game has judged it).
let sending = null, endedAtSend = null;

// Words for the answer fields a question may have (the JSON names stay the schema's).
function labelOf(name, payload) {
  const o = (payload && payload.observation) || {}, own = o.own || {}, pub = o.public || {};
  const words = {
    order: ['New ships to order', 'ships, ' + (pub.ship_price !== undefined ? money(pub.ship_price) + ' each, arriving next year' : '') + (own.order_limit !== undefined ? '; at most ' + own.order_limit : '')],
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

// A reason the game gives (written for a program: "field `deep` must be …") in the
// form's words ("“Ships to send to the deep sea” must be …").
function inWords(reason, payload) {
  return (reason || '')
    .replace(/field `(\w+)`/g, (_, n) => '“' + labelOf(n, payload)[0] + '”')
    .replace(/`(\w+)`/g, (_, n) => labelOf(n, payload)[0].toLowerCase());
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
  el('question-title').textContent = 'Year ' + q.year + ': ' + q.title;
  el('ask').textContent = q.ask || '';
  const tries = el('tries');
  tries.hidden = !q.repair;
  tries.textContent = q.tries_left > 1
    ? 'Asked again: ' + plural(q.tries_left, 'try', 'tries') + ' left.'
    : 'Last try: if this answer is not accepted either, the game goes on with: ' + (q.if_unanswered || 'its fallback') + '.';
  const refused = el('refused');
  const reason = inWords(q.refused, payload);
  refused.hidden = !q.refused;
  refused.textContent = reason ? 'Your last answer was not accepted: ' + reason : '';
  el('unanswered').textContent = q.if_unanswered ? 'If no valid answer arrives in time, the game goes on with: ' + q.if_unanswered + '.' : '';
  for (const [name, s, required] of fieldsOf(schema)) {
    const [words, unit] = labelOf(name, payload);
    const label = text('label', words + ' ', 'field');
    label.htmlFor = 'field-' + name;
    const range = s.type === 'integer' && s.minimum !== undefined ? (s.maximum !== undefined && s.maximum < 1e12 ? ' (' + s.minimum + '–' + s.maximum + ')' : ' (' + s.minimum + ' or more)') : '';
    label.appendChild(text('span', [unit, range.trim()].filter(Boolean).join(' '), 'hint'));
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
    if (q.refused && q.refused.includes('`' + name + '`')) form.appendChild(text('div', reason, 'fielderror'));
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
  if (!['decision', 'pledge', 'intention'].includes(payload.question) || own.ships === undefined) { rule.hidden = true; return; }
  rule.hidden = false;
  const v = n => { const f = el('field-' + n); return f && f.value !== '' ? Number(f.value) : null; };
  const deep = v('deep'), coast = v('coast'), order = v('order');
  const atSea = (deep || 0) + (coast || 0);
  let words = 'You have ' + plural(own.ships, 'ship') + ': deep sea + coast may be at most ' + own.ships + '; the rest stay in the harbor. ';
  if (deep !== null || coast !== null) words += 'Now: ' + atSea + ' at sea, ' + Math.max(0, own.ships - atSea) + ' in the harbor. ';
  if (order !== null) words += 'Ships you order arrive next year.';
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

// How many of the seat's questions have ended (answered, or fallen back).
const ended = tally => tally.answered + tally.timed_out + tally.refused;

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
        el('formerror').textContent = inWords(body.error, current.payload) || 'The answer could not be read.';
        el('send').disabled = false;
        sending = null;
        return;
      }
      if (r.status === 404 || r.status === 410) { released(await r.json().catch(() => ({}))); return; }
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
  if (!payload || !payload.observation) {
    box.appendChild(text('p', 'Your fleet appears here with the first question.', 'note'));
    el('messages').replaceChildren(text('p', 'No messages yet.', 'note'));
    return;
  }
  const o = payload.observation, own = o.own, pub = o.public;
  const after = pub.years_left - 1;
  card(box, 'Year', pub.year + ' of ' + pub.years_total, after > 0 ? plural(after, 'more year') + ' after this one' : 'the last year');
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

// The seat's own years: every year it was shown (kept by the game, also across a
// resume) and its memory; each point is the state after a year.
function history(seat) {
  const payload = seat.payload || {};
  const after = new Map();
  for (const m of payload.memory || []) after.set(m.year, {bank: m.bank_after, density: m.density_after});
  for (const s of seat.seen || []) if (s.year > 1) after.set(s.year - 1, {bank: s.bank, density: s.density});
  const years = [...after.keys()].sort((a, b) => a - b);
  chart(el('bank'), el('bank-legend'), {yTitle: 'dollars', format: money, empty: 'drawn after year 1'}, [
    {name: 'your bank after each year', colour: PALETTE[0], points: years.map(y => [y, after.get(y).bank])},
  ]);
  const revealed = years.filter(y => after.get(y).density);
  chart(el('density'), el('density-legend'), {yTitle: 'share of capacity', format: v => Math.round(v * 100) + '%', empty: 'drawn after year 1'}, [
    {name: 'deep sea', colour: PALETTE[0], points: revealed.map(y => [y, after.get(y).density[0]])},
    {name: 'coast', colour: PALETTE[1], dash: '8 4', points: revealed.map(y => [y, after.get(y).density[1]])},
  ]);
}

// What the game applied when the seat's last question fell back.
function notice(seat) {
  const box = el('notice');
  const n = seat.notice;
  box.hidden = !n;
  if (!n) return;
  const what = n.why === 'timed_out'
    ? 'No answer arrived in time.'
    : 'Your answers were not accepted' + (n.reason ? ' (' + inWords(n.reason, seat.payload) + ')' : '') + '.';
  box.replaceChildren(
    text('h2', 'Year ' + n.year + ', ' + n.title + ': the game went on without you'),
    text('p', what + ' The game went on with: ' + n.applied + '.'),
  );
}

function ending(state) {
  const seat = state.seat, d = state.debrief;
  el('question').hidden = true;
  el('waiting').hidden = true;
  const end = el('ending');
  end.hidden = false;
  end.replaceChildren(text('h2', 'The game is over'));
  if (!d || !d.years.length) { end.appendChild(text('p', 'Thank you for playing.')); return; }
  const last = d.years[d.years.length - 1];
  const mine = seat.team;
  const place = ranking(d.years, d.roster).findIndex(r => r.team === mine) + 1;
  end.appendChild(text('p', 'Team ' + mine + ' finished ' + (place === 1 ? 'first' : 'in place ' + place) + ' of ' + last.assets.length + ' with ' + money(last.assets[mine - 1]) + ' in assets, after ' + plural(last.year, 'year') + '.' + (d.years.some(y => y.collapsed) ? ' The fish collapsed in year ' + d.years.find(y => y.collapsed).year + '.' : ' The fish never collapsed.')));
  rankingTable(end, d.years, d.roster, mine);
  const charts = document.createElement('div');
  charts.className = 'charts full';
  end.appendChild(charts);
  const [s1, l1] = chartBox(charts, 'end-sea', 'The sea as it really was: fish at the end of each year');
  seaChart(s1, l1, d.years, d.sea);
  const [s2, l2] = chartBox(charts, 'end-assets', 'Assets of every team');
  byTeam(s2, l2, d.years, (y, t) => y.assets[t], 'dollars', money);
}

// The seat was released by the facilitator (or is not a seat): said, with the join
// address, and the page stops asking.
function released(body) {
  finished = true;
  current = null; deadline = null;
  el('question').hidden = true;
  el('notice').hidden = true;
  const w = el('waiting');
  w.hidden = false;
  w.replaceChildren();
  if (body && body.released) {
    say('Released by the facilitator');
    w.appendChild(text('p', 'The facilitator released team ' + body.released + ': this page no longer plays it.', 'waiting'));
    const a = text('a', 'Join the game again');
    a.href = body.join;
    const p = document.createElement('p');
    p.appendChild(a);
    w.appendChild(p);
  } else {
    say('Not a seat');
    w.appendChild(text('p', 'This address does not hold a seat of the game. Ask the facilitator for the join address.', 'waiting'));
  }
  tick();
}

function waiting(words) {
  el('waiting').hidden = false;
  el('waiting-text').textContent = words;
}

function render(state) {
  const seat = state.seat;
  el('team').textContent = 'Team ' + seat.team;
  const t = seat.tally;
  el('tally').textContent = plural(t.answered, 'answer') + (t.timed_out ? ', ' + t.timed_out + ' timed out' : '') + (t.refused ? ', ' + t.refused + ' not accepted' : '');
  paused = seat.paused;
  stopped = seat.status === 'stopped';
  el('paused').hidden = !paused;
  dashboard(seat);
  history(seat);
  notice(seat);
  // The rules are open until the game starts, then folded away.
  if (seat.started && el('how').dataset.folded !== '1') { el('how').open = false; el('how').dataset.folded = '1'; }
  if (seat.status === 'done') {
    current = null; deadline = null; finished = true;
    say('The game is over. Thank you for playing.');
    ending(state);
    return;
  }
  if (stopped) {
    current = null; deadline = null;
    say('Stopped by the host');
    waiting('The game was stopped by its host. Keep this page open: it goes on by itself when the game resumes.');
    el('question').hidden = true;
    return;
  }
  const q = seat.question;
  if (!q) {
    current = null; deadline = null;
    el('question').hidden = true;
    if (!seat.started) {
      say('Waiting for the start');
      waiting('Waiting for the facilitator to start the game. Meanwhile, read how to play.');
    } else if (sending !== null && endedAtSend !== null && ended(t) > endedAtSend) {
      // The game judged the answer: accepted, or the notice says what it applied.
      say(seat.notice ? 'Your answer was not accepted' : 'Answer accepted');
      waiting(seat.notice ? 'Waiting for the other teams…' : 'Your answer was accepted. Waiting for the other teams…');
      sending = null; endedAtSend = null;
    } else if (sending !== null) {
      say('Answer sent: the game checks it…');
    } else {
      say('Waiting for the other teams');
      waiting('Waiting for the other teams…');
    }
    return;
  }
  deadline = Date.now() + 1000 * (seat.seconds_left || 0);
  if (current && current.id === q.id) return;
  // A new question (a re-ask is one too): the answer sent before it has been judged.
  current = Object.assign({payload: seat.payload || {prompt: []}}, q);
  sending = null; endedAtSend = null;
  el('waiting').hidden = true;
  el('question').hidden = false;
  say('Your turn: year ' + q.year + (q.repair > 0 ? ' (asked again)' : ''));
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

let lastSeat = null;
async function poll() {
  while (!finished) {
    try {
      const r = await fetch(base + '/state' + (version === null ? '' : '?since=' + version), {cache: 'no-store'});
      if (r.status === 404 || r.status === 410) { released(await r.json().catch(() => ({}))); return; }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const s = await r.json();
      version = s.version;
      lastSeat = s.seat;
      render(s);
      tick();
    } catch (e) {
      // A stopped game's server is down until its host resumes it: the page says so,
      // not "connection lost".
      if (stopped) say('Stopped by the host: waiting for the game to resume…');
      else say('Connection lost; reconnecting…');
      await sleep(2000);
    }
  }
}
el('form').addEventListener('submit', ev => {
  if (lastSeat) endedAtSend = ended(lastSeat.tally);
  submit(ev);
});
loadRules(el('rules'));
poll();
