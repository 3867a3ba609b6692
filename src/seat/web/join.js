// The join page: the teams, who plays each, and a button for each free seat a person
// may take. A browser that holds a seat is sent back to it (one team per browser).
const base = location.pathname.replace(/\/$/, '');
let holding = false;
async function load() {
  let r;
  try { r = await fetch(base + '/state', {cache: 'no-store'}); } catch (e) { el('error').textContent = 'Could not reach the game; trying again…'; return; }
  if (r.status === 429) { const b = await r.json().catch(() => ({})); el('error').textContent = b.error || 'Too many tries: wait a minute.'; return; }
  if (!r.ok) { el('teams').replaceChildren(text('p', 'This join code is not open: check the address the facilitator shows.')); return; }
  el('error').textContent = '';
  const s = await r.json();
  const box = el('teams');
  box.replaceChildren();
  holding = !!s.yours;
  if (s.yours) {
    const p = document.createElement('p');
    const a = text('a', 'Continue as team ' + s.yours.team);
    a.href = s.yours.seat;
    a.id = 'continue';
    p.append('This browser plays team ' + s.yours.team + '. ', a);
    el('yours').replaceChildren(p);
  } else el('yours').replaceChildren();
  for (const t of s.teams) {
    const div = document.createElement('div');
    div.className = 'team';
    div.appendChild(text('h2', 'Team ' + t.team));
    if (t.who !== 'person') div.appendChild(text('p', 'played by ' + whoPlays(t.who), 'note'));
    else if (!t.open) div.appendChild(text('p', s.yours && s.yours.team === t.team ? 'yours' : 'taken', 'note'));
    else if (holding) div.appendChild(text('p', 'free', 'note'));
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
    const body = await r.json().catch(() => ({}));
    if (r.ok) { location.href = body.seat; return; }
    el('error').textContent = body.error || 'That seat could not be taken.';
  } catch (e) {
    el('error').textContent = 'Could not reach the game; try again.';
  }
  button.disabled = false;
  load();
}
loadRules(el('rules'));
load();
setInterval(load, 4000);
