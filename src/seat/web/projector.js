// The class's screen, for the projector: how to join, who plays each team, what each
// person is asked and the time left; no controls, and the true sea only in the debrief.
function render(s) {
  el('denied').hidden = true;
  joinPanel(s);
  el('paused').hidden = !s.paused;
  el('phase').textContent = s.ending ? 'the game is over'
    : !s.started ? 'waiting for the facilitator to start the game'
    : s.played ? 'after year ' + s.played : 'year 1 under way';
  // The rules stay up until the game starts.
  el('how').hidden = s.started;
  teamRows(s, null);
  const end = el('debrief');
  end.hidden = !s.ending;
  el('join-panel').hidden = !!s.ending;
  if (s.ending) debrief(s, el('debrief-body'), null);
}
el('qr').src = '/facilitator/qr.svg';
loadRules(el('rules'));
follow('/projector/state', render, denied);
