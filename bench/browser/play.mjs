// A whole class in headless Chromium (bench/play-browser.sh): two students join by the
// join page and play experiments/classroom.toml next to two mock-LLM and two scripted
// teams, as people would (reading the form, typing numbers, clicking). Along the way:
// one answer's POST is dropped (the page must retry and say so), one student reloads
// mid-question, the host stops the game with Ctrl-C (the years played are recorded as
// `stopped`) and resumes it with --resume (the same pages carry on). Screenshots of the
// seat, the facilitator and the debrief go to docs/img/.
//
//   node bench/browser/play.mjs [--bin target/release/fishbanks] [--port 18431]

import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const BIN = arg('--bin', 'target/release/fishbanks');
const PORT = arg('--port', '18431');
const CHROMIUM = arg('--chromium', '/usr/bin/chromium');
const SHOTS = arg('--shots', 'docs/img');
const out = mkdtempSync(join(tmpdir(), 'fishbanks-class-'));
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s]`, ...a);
const fail = (why) => { console.error('FAIL:', why); process.exit(1); };
const sleep = ms => new Promise(r => setTimeout(r, ms));

// Starts `fishbanks play` and resolves with its printed addresses.
function startGame(extra) {
  const child = spawn(BIN, ['play', 'experiments/classroom.toml', '--out', out, '--bind', `127.0.0.1:${PORT}`, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  const exited = new Promise(r => child.on('exit', (code) => r(code)));
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        lines.push(line);
        if (line.startsWith('facilitator: ')) {
          resolve({
            join: lines.find(l => l.startsWith('join: ')).slice(6),
            facilitator: line.slice(13),
          });
        }
      }
    });
    child.on('exit', (code) => reject(new Error('play exited with ' + code + ': ' + lines.join('\n'))));
  });
  return { child, ready, exited, lines };
}

// The status and stocks a runs.csv row records.
function runsRow() {
  const text = readFileSync(join(out, 'classroom', 'runs.csv'), 'utf8').trim().split('\n');
  const header = text[0].split(',');
  const row = text[1].split(',');
  const get = name => row[header.indexOf(name)];
  return { status: get('status'), years: Number(get('years_played')), fallbacks: Number(get('llm_fallbacks')), repairs: Number(get('llm_repairs')), answers: Number(get('llm_answers') || 0), rows: text.length - 1 };
}

const stats = { answered: [0, 0], retried: 0, reloads: 0, reasked: '', coveredStatus: 0, latencies: [] };

// One student's turn: reads the open question and answers it like a person.
async function answerOne(page, who) {
  await page.waitForSelector('#question:not([hidden]) #send', { timeout: 120000 });
  const kind = await page.evaluate(() => current && current.kind);
  const qid = await page.evaluate(() => current && current.id);
  const ships = await page.evaluate(() => current.payload.observation.own.ships);
  const fields = await page.$$eval('#form [data-kind]', nodes => nodes.map(n => ({ name: n.dataset.name, kind: n.dataset.kind, tag: n.tagName, min: n.min, max: n.max, value: n.value })));
  for (const f of fields) {
    if (f.kind === 'integer' && f.tag === 'INPUT') {
      let v;
      // Team 2's first decision puts every ship in both areas: the game refuses it.
      const overbook = who === 1 && kind === 'decision' && !stats.reasked;
      if (f.name === 'deep') v = overbook ? ships : Math.min(ships, Math.max(0, Math.ceil(ships / 2)));
      else if (f.name === 'coast') v = overbook ? ships : Math.max(0, Math.min(ships - Math.ceil(ships / 2), 1));
      else if (f.name === 'order') v = 0;
      else v = Number(f.min || 0);
      await page.fill('#field-' + f.name, String(v));
    } else if (f.kind === 'integer' || f.kind === 'boolean') {
      await page.locator('#field-' + f.name + ' input').first().check();
    } else if (f.kind === 'string') {
      await page.fill('#field-' + f.name, who === 0 ? 'Let us keep the deep sea above half: four ships each at most. =HYPERLINK("http://x")' : 'Agreed, we fish less.');
    }
  }
  const rule = await page.locator('#rule').textContent();
  if (kind === 'decision' && !/You have \d+ ships/.test(rule)) fail('the decision rule is not shown: ' + rule);
  const t0 = Date.now();
  await page.click('#send');
  // Sent: the question closes (a re-ask is a new question), or the page says why not.
  await page.waitForFunction((id) => !current || current.id !== id, qid, { timeout: 60000 });
  stats.latencies.push(Date.now() - t0);
  stats.answered[who] += 1;
  if (who === 1 && kind === 'decision' && !stats.reasked) {
    // The re-ask: the reason above the form, the rule flagged before sending again.
    await page.waitForSelector('#refused:not([hidden])', { timeout: 30000 });
    stats.reasked = (await page.textContent('#refused')).slice(0, 160);
    const kept = await page.inputValue('#field-deep');
    if (kept !== String(ships)) fail('the re-ask cleared the form (deep: "' + kept + '")');
    if (!/rule bad/.test(await page.getAttribute('#rule', 'class'))) fail('the broken rule is not flagged');
    await page.screenshot({ path: join(SHOTS, 'play-seat-reask.png') });
  }
  // A status about this answer must never sit over the next question.
  await sleep(400);
  const after = await page.evaluate(() => ({ q: current && current.id, status: document.getElementById('status').textContent }));
  if (after.q !== null && after.q !== qid && /Answer sent|closed before/.test(after.status)) stats.coveredStatus += 1;
  return kind;
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  let game = startGame(['--exit-when-done']);
  const addr = await game.ready;
  log('game up:', addr.join);

  const facilitatorCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const facilitator = await facilitatorCtx.newPage();
  const errors = [];
  facilitator.on('pageerror', e => errors.push('facilitator: ' + e.message));
  await facilitator.goto(addr.facilitator);
  await facilitator.waitForSelector('#code:not(:empty)');
  if ((await facilitator.content()).includes('/seat/')) fail('the projected page shows a seat address');

  // Two students, each in their own browser, join by the join page.
  const students = [];
  for (const team of [1, 2]) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await ctx.newPage();
    page.on('pageerror', e => errors.push(`team ${team}: ` + e.message));
    await page.goto(addr.join);
    await page.getByRole('button', { name: 'Take this seat' }).first().click();
    await page.waitForURL(/\/seat\//);
    const title = await page.textContent('#team');
    log(`student joined as ${title}`);
    students.push(page);
  }
  const taken = await facilitator.locator('#teams tr').allTextContents();
  if (taken.filter(t => t.includes('Release')).length !== 2) fail('the facilitator does not see two taken seats: ' + taken.join(' | '));

  // Team 2 plays over a slow network: 150 ms more on every request.
  await students[1].route('**', async (route) => { await sleep(150); await route.continue(); });

  // Year 1: the first answer of team 1 is dropped on the way: the page must retry.
  let dropped = false;
  await students[0].route('**/answer', async (route) => {
    if (!dropped) { dropped = true; await route.abort('connectionreset'); return; }
    await route.continue();
  });
  const sawRetry = students[0].waitForFunction(() => /sending again/.test(document.getElementById('status').textContent), null, { timeout: 30000 }).then(() => { stats.retried += 1; });

  let screenshotTaken = false;
  let flooded = false;
  // 1,100 connections that never send a byte, left open while the class plays on:
  // page loads must still answer.
  const idle = [];
  async function flood() {
    const host = new URL(addr.join);
    await Promise.all(Array.from({ length: 1100 }, () => new Promise((resolve) => {
      const sock = connect(Number(host.port), host.hostname, resolve);
      sock.on('error', () => resolve());
      idle.push(sock);
    })));
    const times = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      const r = await fetch(addr.join + '/state');
      if (!r.ok) fail('a page load failed under 1,100 idle connections: ' + r.status);
      await r.text();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    stats.flood = `${idle.length} idle connections open: 50 join-page loads answered, median ${times[25].toFixed(1)} ms, max ${times[49].toFixed(1)} ms`;
    log(stats.flood);
  }
  // Plays both seats until the game reaches year `untilYear` (its question open) or ends.
  async function playUntil(untilYear) {
    for (;;) {
      let progressed = false;
      for (const [i, page] of students.entries()) {
        const state = await page.evaluate(() => ({ done: finished, q: current && { year: current.year, kind: current.kind, id: current.id } }));
        if (state.done) continue;
        if (!state.q) continue;
        if (untilYear && state.q.year >= untilYear) continue;
        if (!screenshotTaken && i === 0 && state.q.kind === 'decision' && state.q.year === 2) {
          await page.screenshot({ path: join(SHOTS, 'play-seat.png'), fullPage: true });
          await facilitator.screenshot({ path: join(SHOTS, 'play-facilitator.png'), fullPage: true });
          screenshotTaken = true;
        }
        if (i === 0 && !flooded && state.q.year === 2) {
          flooded = true;
          await flood();
        }
        if (i === 1 && stats.reloads === 0 && state.q.year === 2) {
          // A student reloads mid-question: the same question comes back.
          await page.reload();
          await page.waitForSelector('#question:not([hidden]) #send');
          const again = await page.evaluate(() => current.id);
          if (again !== state.q.id) fail('after a reload the open question changed');
          stats.reloads += 1;
        }
        await answerOne(page, i);
        progressed = true;
      }
      const over = await Promise.all(students.map(p => p.evaluate(() => finished)));
      if (over.every(Boolean)) return 'over';
      if (untilYear) {
        const years = await Promise.all(students.map(p => p.evaluate(() => current && current.year)));
        if (years.every(y => y !== null && y >= untilYear)) return 'reached';
      }
      if (!progressed) await sleep(50);
    }
  }

  const reached = await playUntil(4);
  for (const sock of idle) sock.destroy();
  await sawRetry;
  log(`year 4 reached (${reached}); team 1 answered ${stats.answered[0]}, team 2 ${stats.answered[1]}; dropped POST retried: ${stats.retried}`);

  // The host presses Ctrl-C mid-year 4.
  game.child.kill('SIGINT');
  const code = await game.exited;
  if (code !== 130) fail('play did not exit with 130 after Ctrl-C: ' + code);
  const stopped = runsRow();
  if (stopped.status !== 'stopped' || stopped.years !== 3) fail('runs.csv after the stop: ' + JSON.stringify(stopped));
  log(`stopped: runs.csv says ${stopped.status} after ${stopped.years} years`);
  await students[0].waitForFunction(() => /Connection lost|stopped/.test(document.getElementById('status').textContent), null, { timeout: 30000 });

  // The host resumes: the same seats, the same pages carry on by themselves.
  game = startGame(['--exit-when-done', '--resume']);
  const again = await game.ready;
  if (again.join !== addr.join || again.facilitator !== addr.facilitator) fail('the resumed game has other addresses');
  log('resumed');
  await facilitator.reload();
  const ending = await playUntil(null);
  log(`game ${ending}`);
  await facilitator.waitForSelector('#debrief:not([hidden])', { timeout: 60000 });
  await facilitator.waitForSelector('#d-catch polyline');
  await sleep(300);
  await facilitator.screenshot({ path: join(SHOTS, 'play-debrief.png'), fullPage: true });
  await students[0].waitForSelector('#ending:not([hidden]) table');
  await students[0].screenshot({ path: join(SHOTS, 'play-seat-end.png'), fullPage: true });
  const endText = await students[0].textContent('#ending');
  if (!/finished/.test(endText)) fail('the seat\'s end page gives no result: ' + endText);
  const code2 = await game.exited;
  const final = runsRow();
  if (final.status !== 'ok' || final.years !== 6 || final.rows !== 1) fail('runs.csv at the end: ' + JSON.stringify(final));
  if (errors.length) fail('page errors: ' + errors.join('; '));
  if (stats.coveredStatus > 0) fail(`a status covered a newer question ${stats.coveredStatus} times`);
  if (!stats.flood) fail('the idle flood did not run');
  if (!/not accepted/.test(stats.reasked)) fail('the re-ask was not shown: ' + stats.reasked);
  const messages = readFileSync(join(out, 'classroom', 'messages.csv'), 'utf8');
  if (!messages.includes('=HYPERLINK')) fail('the message was not recorded as written');
  const lat = [...stats.latencies].sort((a, b) => a - b);
  console.log('\nclass played: 2 students (join page), 2 mock-LLM and 2 scripted teams, 6 years');
  console.log(`answers sent   team 1: ${stats.answered[0]}, team 2: ${stats.answered[1]}`);
  console.log(`dropped POST   retried by the page and accepted (${stats.retried} retry seen)`);
  console.log(`reload         ${stats.reloads} mid-question; the same question came back`);
  console.log(`re-ask         ${stats.reasked}`);
  console.log(`slow network   team 2 with +150 ms per request: a status covered a newer question ${stats.coveredStatus} times`);
  console.log(`idle flood     ${stats.flood}`);
  console.log(`stop           Ctrl-C in year 4 -> exit 130, runs.csv: stopped, 3 years recorded`);
  console.log(`resume         --resume -> same join and facilitator addresses; runs.csv: ${final.status}, ${final.years} years, ${final.rows} row; exit ${code2}`);
  console.log(`answer -> next state  median ${lat[Math.floor(lat.length / 2)]} ms, max ${lat[lat.length - 1]} ms (${lat.length} answers)`);
  console.log(`screenshots    ${SHOTS}/play-seat.png, play-facilitator.png, play-debrief.png, play-seat-end.png`);
  console.log(`results        ${join(out, 'classroom')}`);
  console.log(`wall           ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log('PASS');
  await browser.close();
}

main().catch(e => fail(e.stack || String(e)));
