// The facilitator's screen: the controls (start, pause, extra time, release), every
// team's status, the true sea, and the debrief. It is reached through the printed link,
// which leaves its secret in an HttpOnly cookie; every action also carries the CSRF
// token the state gave this page.
let csrf = '', confirming = null;

async function act(path, body) {
  try {
    const r = await post('/facilitator/' + path, body, {'x-fishbanks-csrf': csrf});
    if (!r.ok) { const b = await r.json().catch(() => ({})); el('error').textContent = b.error || 'The game refused: HTTP ' + r.status; }
    else el('error').textContent = '';
  } catch (e) { el('error').textContent = 'Could not reach the game.'; }
}

// Release asks first: the student's page stops playing the team.
function releaseControl(s) {
  return (t, td) => {
    if (t.who !== 'person' || !t.taken || s.ending) return;
    if (confirming === t.team) {
      const box = document.createElement('span');
      box.className = 'confirm';
      box.appendChild(text('span', 'Release team ' + t.team + '? Its page stops playing it.'));
      const yes = text('button', 'Yes, release', 'danger');
      yes.addEventListener('click', () => { confirming = null; act('release/' + t.team); });
      const no = text('button', 'Cancel', 'secondary');
      no.addEventListener('click', () => { confirming = null; render(last); });
      box.append(yes, no);
      td.appendChild(box);
    } else {
      const b = text('button', 'Release', 'secondary');
      b.addEventListener('click', () => { confirming = t.team; render(last); });
      td.appendChild(b);
    }
  };
}

let last = null;
function render(s) {
  last = s;
  csrf = s.csrf;
  el('denied').hidden = true;
  joinPanel(s);
  el('start').hidden = s.started || !!s.ending;
  el('pause').textContent = s.paused ? 'Resume the clock' : 'Pause the clock';
  el('pause').dataset.paused = s.paused ? '1' : '';
  el('pause').hidden = !s.started || !!s.ending;
  el('extend').hidden = !s.started || !!s.ending;
  el('paused').hidden = !s.paused;
  teamRows(s, releaseControl(s));
  const run = s.years.length ? s.years[s.years.length - 1].run_id : null;
  const years = s.years.filter(y => y.run_id === run);
  seaChart(el('sea'), el('sea-legend'), years, s.sea);
  el('year').textContent = years.length ? 'after year ' + years[years.length - 1].year + (years.some(y => y.collapsed) ? ' (collapsed in year ' + years.find(y => y.collapsed).year + ')' : '') : 'before year 1';
  const end = el('debrief');
  if (!s.ending) { end.hidden = true; return; }
  end.hidden = false;
  el('join-panel').hidden = true;
  el('truth').hidden = true;
  const links = document.createElement('p');
  links.appendChild(text('span', 'Results in ' + s.ending.results + '. '));
  s.ending.stories.forEach((run, i) => {
    const l = text('a', 'The story of ' + run);
    l.href = '/facilitator/story/' + i;
    links.append(l, ' · ');
  });
  if (s.ending.report) { const l = text('a', 'The report'); l.href = '/facilitator/report'; links.append(l, ' · '); }
  const x = text('a', 'Messages for a spreadsheet (CSV)');
  x.href = '/facilitator/messages.csv';
  links.appendChild(x);
  debrief(s, el('debrief-body'), links);
}
el('qr').src = '/facilitator/qr.svg';
el('start').addEventListener('click', () => act('start'));
el('pause').addEventListener('click', () => act(el('pause').dataset.paused ? 'resume' : 'pause'));
el('extend').addEventListener('click', () => act('extend', {seconds: 60}));
follow('/facilitator/state', render, denied);
