// What the facilitator's screen and the projector share: the join panel, the teams'
// status, and the debrief (the ranking, the true sea against its most productive stock,
// each team's catch and assets, and how each person's questions ended).
const base = location.pathname.replace(/\/$/, '');

function joinPanel(s) {
  el('code').textContent = s.join.code;
  const urls = el('urls');
  urls.replaceChildren();
  s.join.urls.forEach((u, i) => urls.appendChild(text('div', u + '/join/' + s.join.code, i === 0 ? 'join-url' : 'note')));
}

// A person's question in words: "year 3: your decision for the year (asked again), 41 s left".
function status(t, s) {
  if (t.who !== 'person') return 'plays by itself';
  if (!t.taken && !s.ending) return 'waiting for a student to join';
  if (t.status === 'asked' && t.asked) return 'answering ' + t.asked.title + ', year ' + t.asked.year + (t.asked.repair ? ' (asked again)' : '') + (s.paused ? '' : ', ' + Math.round(t.seconds_left || 0) + ' s left');
  if (t.status === 'done') return 'done';
  if (t.status === 'stopped') return 'stopped';
  if (!s.started) return 'joined; waiting for the start';
  return 'waiting for the others';
}
const tallyWords = t => t ? plural(t.tally.answered, 'answer') + (t.tally.timed_out ? ', ' + t.tally.timed_out + ' timed out' : '') + (t.tally.refused ? ', ' + t.tally.refused + ' not accepted' : '') : '';

// The teams as rows; `action(t, td)` may add a control to the last cell.
function teamRows(s, action) {
  const rows = el('teams');
  rows.replaceChildren();
  for (const t of s.teams) {
    const tr = document.createElement('tr');
    tr.append(text('td', 'Team ' + t.team), text('td', whoPlays(t.who)), text('td', status(t, s)));
    tr.appendChild(text('td', t.who === 'person' ? tallyWords(t) : ''));
    if (action) { const td = document.createElement('td'); action(t, td); tr.appendChild(td); }
    rows.appendChild(tr);
  }
}

function debrief(s, body, links) {
  body.replaceChildren();
  const run = s.years.length ? s.years[s.years.length - 1].run_id : null;
  const years = s.years.filter(y => y.run_id === run);
  const roster = s.teams.map(t => t.who);
  if (years.length) {
    const last = years[years.length - 1];
    const collapsed = years.find(y => y.collapsed);
    body.appendChild(text('p', 'After ' + plural(last.year, 'year') + ': ' + (collapsed ? 'the fish collapsed in year ' + collapsed.year + '.' : 'the fish never collapsed.')));
  }
  rankingTable(body, years, roster, null);
  const people = s.teams.filter(t => t.who === 'person');
  if (people.length) {
    body.appendChild(text('h3', 'How each person\u2019s questions ended'));
    const table = document.createElement('table');
    const head = document.createElement('tr');
    for (const h of ['team', 'answered', 're-asked', 'timed out', 'not accepted']) head.appendChild(text('th', h, h === 'team' ? '' : 'num'));
    table.appendChild(head);
    for (const t of people) {
      const tr = document.createElement('tr');
      tr.append(text('td', 'Team ' + t.team), text('td', String(t.tally.answered), 'num'), text('td', String(t.tally.reasked), 'num'), text('td', String(t.tally.timed_out), 'num'), text('td', String(t.tally.refused), 'num'));
      table.appendChild(tr);
    }
    body.appendChild(table);
    body.appendChild(text('p', 'A question that timed out or was not accepted got the game\u2019s fallback (the team\u2019s previous decision, or no message).', 'note'));
  }
  const charts = document.createElement('div');
  charts.className = 'charts full';
  body.appendChild(charts);
  const [a, al] = chartBox(charts, 'd-sea', 'Fish at the end of each year, against the most productive stock');
  seaChart(a, al, years, s.sea);
  const [b, bl] = chartBox(charts, 'd-catch', 'Catch of each team');
  byTeam(b, bl, years, (y, t) => y.catch[t], 'fish', fish);
  const [c, cl] = chartBox(charts, 'd-assets', 'Assets of each team');
  byTeam(c, cl, years, (y, t) => y.assets[t], 'dollars', money);
  if (links) body.appendChild(links);
}

// Long-polls `url` and renders each state; `onDenied` when the cookie is missing.
async function follow(url, render, onDenied) {
  let version = null;
  for (;;) {
    try {
      const r = await fetch(url + (version === null ? '' : '?since=' + version), {cache: 'no-store'});
      if (r.status === 401) { onDenied(); await sleep(5000); continue; }
      if (!r.ok) { await sleep(3000); continue; }
      const s = await r.json();
      version = s.version;
      el('offline').hidden = true;
      render(s);
    } catch (e) {
      el('offline').hidden = false;
      await sleep(2000);
    }
  }
}
function denied() {
  el('denied').hidden = false;
}
