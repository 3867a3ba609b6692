// What every page shares: building text nodes (every text from the game or a player is
// written with textContent, never as HTML), money and fish in words, the charts, the
// final ranking, and POST with its retries left to the caller.
'use strict';
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
const plural = (n, one, many) => n + ' ' + (n === 1 ? one : (many || one + 's'));
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#999933'];
const DASHES = ['', '8 4', '2 4', '10 4 2 4', '', '8 4', '2 4', '10 4 2 4'];
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

// Charts are drawn at the size they are shown (one unit of the drawing is one pixel of
// the page), so labels are 14 px on a phone and on a projector alike, and drawn again
// when the window changes size.
const FONT = 14;
const charts = new Map();
let resizing = null;
window.addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => { for (const draw of charts.values()) draw(); }, 150);
});

// A line chart with both axes titled, the years labelled on x, a few ticks on y, and
// its legend outside the plot (in `legend`). `series`: {name, points: [[year, value]],
// colour, dash}; `lines`: horizontal references {name, value, colour}.
function chart(svg, legend, opts, series, lines) {
  const draw = () => drawChart(svg, legend, opts, series, lines || []);
  charts.set(svg, draw);
  draw();
}
function drawChart(svg, legend, opts, series, refs) {
  svg.replaceChildren();
  const box = svg.parentElement ? svg.parentElement.clientWidth : 0;
  const W = Math.max(280, Math.round(box || 640));
  const H = Math.round(Math.min(440, Math.max(240, W * (opts.aspect || 0.42))));
  const L = 16 + FONT * 5.6, R = 12, T = 12, B = FONT * 3.4;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('height', H);
  const pts = series.flatMap(s => s.points);
  if (pts.length === 0) {
    // Nothing to draw yet: one line of text, not an empty frame.
    svg.setAttribute('viewBox', '0 0 ' + W + ' 40');
    svg.setAttribute('height', 40);
    svg.appendChild(svgNode('text', {x: W / 2, y: 25, 'text-anchor': 'middle', 'font-size': FONT + 1, fill: '#667'}, opts.empty || 'drawn once a year is played'));
    if (legend) legend.replaceChildren();
    return;
  }
  const years = pts.map(p => p[0]);
  const first = Math.min(...years), last = Math.max(...years, opts.lastYear || 0);
  const x0 = first - 0.5, x1 = last + 0.5;
  const ys = pts.map(p => p[1]).concat(refs.map(r => r.value));
  let y0 = Math.min(0, ...ys), y1 = Math.max(...ys);
  if (y1 <= y0) y1 = y0 + 1;
  const ticks = niceTicks(y0, y1, Math.max(3, Math.round(H / 70)));
  y1 = Math.max(y1 * 1.04, ticks[ticks.length - 1]);
  const X = x => L + (x - x0) / (x1 - x0) * (W - L - R);
  const Y = y => H - B - (y - y0) / (y1 - y0) * (H - B - T);
  for (const t of ticks) {
    svg.appendChild(svgNode('line', {x1: L, x2: W - R, y1: Y(t), y2: Y(t), stroke: '#e3e8ee'}));
    svg.appendChild(svgNode('text', {x: L - 6, y: Y(t) + FONT * 0.35, 'text-anchor': 'end', 'font-size': FONT, fill: '#333'}, opts.format ? opts.format(t) : String(t)));
  }
  // As many year labels as fit (about 3 characters each at 14 px).
  const room = Math.max(1, Math.floor((W - L - R) / (FONT * 2.6)));
  const span = last - first + 1;
  const every = [1, 2, 5, 10, 20, 50].find(e => span / e <= room) || 100;
  for (let yr = first; yr <= last; yr++) {
    if ((yr - first) % every !== 0 && yr !== last) continue;
    svg.appendChild(svgNode('text', {x: X(yr), y: H - B + FONT * 1.25, 'text-anchor': 'middle', 'font-size': FONT, fill: '#333'}, String(yr)));
  }
  svg.appendChild(svgNode('line', {x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: '#889'}));
  svg.appendChild(svgNode('line', {x1: L, x2: L, y1: T, y2: H - B, stroke: '#889'}));
  svg.appendChild(svgNode('text', {x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle', 'font-size': FONT, fill: '#222'}, 'year'));
  const mid = (T + H - B) / 2;
  svg.appendChild(svgNode('text', {x: FONT, y: mid, 'text-anchor': 'middle', 'font-size': FONT, fill: '#222', transform: 'rotate(-90 ' + FONT + ' ' + mid + ')'}, opts.yTitle));
  for (const r of refs) {
    svg.appendChild(svgNode('line', {x1: L, x2: W - R, y1: Y(r.value), y2: Y(r.value), stroke: r.colour, 'stroke-dasharray': '4 5', 'stroke-width': 2}));
  }
  series.forEach(s => {
    if (s.points.length > 1) {
      const line = svgNode('polyline', {fill: 'none', stroke: s.colour, 'stroke-width': 3, points: s.points.map(p => X(p[0]) + ',' + Y(p[1])).join(' ')});
      if (s.dash) line.setAttribute('stroke-dasharray', s.dash);
      svg.appendChild(line);
    }
    for (const p of s.points) svg.appendChild(svgNode('circle', {cx: X(p[0]), cy: Y(p[1]), r: 4, fill: s.colour}));
  });
  if (legend) {
    legend.replaceChildren();
    for (const s of series.concat(refs.map(r => ({name: r.name, colour: r.colour, ref: true})))) {
      const item = document.createElement('span');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = s.ref ? 'repeating-linear-gradient(90deg,' + s.colour + ' 0 5px,transparent 5px 9px)' : s.colour;
      item.append(sw, s.name);
      legend.appendChild(item);
    }
  }
}
function chartBox(parent, id, title) {
  const box = document.createElement('div');
  box.appendChild(text('h3', title));
  const holder = document.createElement('div');
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.id = id;
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  holder.appendChild(svg);
  const legend = document.createElement('div');
  legend.className = 'legend';
  legend.id = id + '-legend';
  box.append(holder, legend);
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
// Who plays a team, in words.
const whoPlays = label => label === 'human' || label === 'person' ? 'a person' : (label || '').startsWith('llm') ? 'an AI captain (' + label + ')' : 'a program (' + label + ')';
// The final ranking of a run: [{team, who, assets}], best first.
function ranking(years, roster) {
  if (!years.length) return [];
  const last = years[years.length - 1];
  return last.assets.map((a, i) => ({team: i + 1, who: whoPlays(roster[i]), assets: a}))
    .sort((a, b) => b.assets - a.assets || a.team - b.team);
}
function rankingTable(parent, years, roster, mine) {
  const table = document.createElement('table');
  const head = document.createElement('tr');
  for (const h of ['place', 'team', 'played by', 'assets']) head.appendChild(text('th', h, h === 'assets' ? 'num' : ''));
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
    {name: 'coast', colour: PALETTE[1], dash: '8 4', points: years.map(y => [y.year, y.stock[1]])},
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
// The rules of the game in words (GET /rules), as a list.
async function loadRules(list) {
  try {
    const r = await fetch('/rules', {cache: 'no-store'});
    if (!r.ok) return;
    const rules = await r.json();
    list.replaceChildren(...rules.lines.map(line => text('li', line)));
  } catch (e) { /* the panel stays empty; the game goes on */ }
}
async function post(url, body, headers) {
  return fetch(url, {method: 'POST', headers: Object.assign({'content-type': 'application/json'}, headers || {}), body: JSON.stringify(body || {})});
}
