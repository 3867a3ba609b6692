// A whole class in headless Chromium (bench/play-browser.sh), on a network that is not
// kind to it. Two students join by the join page and play experiments/classroom.toml
// (with 20 s per question, so a timeout happens in the bench's time) next to two
// mock-LLM and two scripted teams, as people would (reading the form, typing numbers,
// clicking); team 1 plays on a phone. The facilitator's link leads to its screen, and a
// projector view is opened at 1920x1080 and 1024x768. Along the way:
//
// - nothing is asked before "Start the game";
// - one answer's POST is dropped (the page must retry and say so), one student reloads
//   mid-question, team 2 plays with 150 ms added to every request;
// - team 2's first decision is one the rules refuse (the re-ask keeps the numbers and
//   says how many tries are left); a later one is refused at every try, and team 1 lets
//   a question time out: each page says what the game applied;
// - the facilitator pauses (the clock stops), gives +1 minute, releases team 2 (after
//   confirming) and the student takes the seat back through the join link;
// - a cross-site form on another origin tries to pause the game;
// - attacks from another address (127.0.0.9) while the class plays: a slowloris that
//   reconnects after each header limit, 560 slow request bodies, 1,100 idle connections;
//   page loads from 127.0.0.1 are timed meanwhile; and a burst of 100 connections opened
//   at once from 127.0.0.1 (as browsers preconnect), each then asking for a page;
// - the host stops the game with Ctrl-C (the years played are recorded as `stopped`) and
//   resumes it with --resume (the same pages carry on, their counters and charts whole).
//
// Screenshots of each page go to docs/img/. Prints its figures and PASS at the end.
//
//   node bench/browser/play.mjs [--bin target/release/fishbanks] [--port 18431]

import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import http from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const BIN = arg('--bin', 'target/release/fishbanks');
const PORT = Number(arg('--port', '18431'));
const CHROMIUM = arg('--chromium', '/usr/bin/chromium');
const SHOTS = arg('--shots', 'docs/img');
const ATTACKER = '127.0.0.9';
const TIMEOUT_S = 20;
const out = mkdtempSync(join(tmpdir(), 'fishbanks-class-'));
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s]`, ...a);
const fail = (why) => { console.error('FAIL:', why); process.exit(1); };
const sleep = ms => new Promise(r => setTimeout(r, ms));
const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// The classroom experiment with 20 s per question (a timeout within the bench's time).
const EXPERIMENT = join(out, 'classroom.toml');
writeFileSync(EXPERIMENT, readFileSync('experiments/classroom.toml', 'utf8').replace(/timeout_s = \d+/, `timeout_s = ${TIMEOUT_S}`));

// Starts `fishbanks play` and resolves with its printed addresses.
function startGame(extra) {
  const child = spawn(BIN, ['play', EXPERIMENT, '--out', out, '--bind', `127.0.0.1:${PORT}`, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
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
          resolve({ join: lines.find(l => l.startsWith('join: ')).slice(6), facilitator: line.slice(13) });
        }
      }
    });
    child.on('exit', (code) => reject(new Error('play exited with ' + code + ': ' + lines.join('\n'))));
  });
  return { child, ready, exited, lines };
}

// The status and counts a runs.csv row records.
function runsRow() {
  const text = readFileSync(join(out, 'classroom', 'runs.csv'), 'utf8').trim().split('\n');
  const header = text[0].split(',');
  const row = text[1].split(',');
  const get = name => row[header.indexOf(name)];
  return { status: get('status'), years: Number(get('years_played')), fallbacks: Number(get('llm_fallbacks')), repairs: Number(get('llm_repairs')), rows: text.length - 1 };
}

// One HTTP GET over a fresh connection from `source` (Connection: close): [status, ms].
function get(url, source, timeoutMs = 10000) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.get(url, { localAddress: source, agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve([res.statusCode, performance.now() - t0]));
    });
    req.on('timeout', () => { req.destroy(); resolve([0, performance.now() - t0]); });
    req.on('error', () => resolve([0, performance.now() - t0]));
  });
}

// Raw sockets from `source` to the game.
function socket(source) {
  return new Promise((resolve) => {
    const s = new Socket();
    s.on('error', () => {});
    s.connect({ port: PORT, host: '127.0.0.1', localAddress: source }, () => resolve(s));
    s.setTimeout(120000, () => s.destroy());
  });
}

// Page loads from 127.0.0.1 (fresh connections) while an attack runs: how many of `n`
// were answered within 3 s, and their times.
async function pageLoads(url, n) {
  const times = [];
  let within = 0;
  for (let i = 0; i < n; i++) {
    const [status, ms] = await get(url, '127.0.0.1');
    if (status === 200) times.push(ms);
    if (status === 200 && ms <= 3000) within += 1;
    await sleep(100);
  }
  return { within, n, median: times.length ? median(times) : NaN, max: times.length ? Math.max(...times) : NaN };
}

const stats = { answered: [0, 0], retried: 0, reloads: 0, reasked: '', tries: '', coveredStatus: 0, latencies: [] };

// One student's turn: reads the open question and answers it like a person. `overbook`:
// put every ship in both areas (a decision the rules refuse).
async function answerOne(page, who, overbook) {
  await page.waitForSelector('#question:not([hidden]) #send', { timeout: 120000 });
  const q = await page.evaluate(() => ({ kind: current.kind, id: current.id, ships: current.payload.observation.own.ships, repair: current.repair }));
  const fields = await page.$$eval('#form [data-kind]', nodes => nodes.map(n => ({ name: n.dataset.name, kind: n.dataset.kind, tag: n.tagName, min: n.min })));
  for (const f of fields) {
    if (f.kind === 'integer' && f.tag === 'INPUT') {
      let v;
      if (f.name === 'deep') v = overbook ? q.ships : Math.min(q.ships, Math.ceil(q.ships / 2));
      else if (f.name === 'coast') v = overbook ? q.ships : Math.max(0, Math.min(q.ships - Math.ceil(q.ships / 2), 1));
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
  if (q.kind === 'decision' && !/You have \d+ ships/.test(rule)) fail('the decision rule is not shown: ' + rule);
  const t0 = Date.now();
  await page.click('#send');
  // Sent: the question closes (a re-ask is a new question), or the page says why not.
  await page.waitForFunction((id) => !current || current.id !== id, q.id, { timeout: 60000 });
  stats.latencies.push(Date.now() - t0);
  stats.answered[who] += 1;
  // A status about this answer must never sit over the next question.
  await sleep(300);
  const after = await page.evaluate(() => ({ q: current && current.id, status: document.getElementById('status').textContent }));
  if (after.q !== null && after.q !== q.id && /Answer sent|closed before/.test(after.status)) stats.coveredStatus += 1;
  return q.kind;
}

// The state of a student's page.
const seatState = page => page.evaluate(() => ({ done: finished, q: current && { year: current.year, kind: current.kind, id: current.id, repair: current.repair } }));

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const errors = [];
  let game = startGame(['--exit-when-done']);
  const addr = await game.ready;
  const base = addr.join.slice(0, addr.join.indexOf('/join/'));
  log('game up:', addr.join);

  // The facilitator opens the printed link: the secret goes into a cookie.
  const facilitatorCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const facilitator = await facilitatorCtx.newPage();
  facilitator.on('pageerror', e => errors.push('facilitator: ' + e.message));
  await facilitator.goto(addr.facilitator);
  await facilitator.waitForSelector('#code:not(:empty)');
  const facilitatorAddress = facilitator.url();
  const secret = addr.facilitator.split('/').pop();
  if (facilitatorAddress.includes(secret)) fail('the facilitator\'s address holds its secret: ' + facilitatorAddress);
  const cookie = (await facilitatorCtx.cookies()).find(c => c.name === 'fishbanks_facilitator');
  if (!cookie || !cookie.httpOnly || cookie.sameSite !== 'Strict') fail('the facilitator\'s cookie: ' + JSON.stringify(cookie));
  if ((await facilitator.content()).includes('/seat/')) fail('the facilitator\'s page shows a seat address');
  // The projector, in the same browser (the cookie), on a second screen.
  const projector = await facilitatorCtx.newPage();
  projector.on('pageerror', e => errors.push('projector: ' + e.message));
  await projector.setViewportSize({ width: 1024, height: 768 });
  await projector.goto(base + '/projector');
  await projector.waitForSelector('#code:not(:empty)');
  const joinBox = await projector.locator('.join-url').first().boundingBox();
  const joinFont = await projector.locator('.join-url').first().evaluate(n => parseFloat(getComputedStyle(n).fontSize));
  if (joinFont < 28) fail('the projected join address is small: ' + joinFont + ' px');
  if (joinBox.y + joinBox.height > 768) fail('the join address is below the first screen at 1024x768');
  const codeBox = await projector.locator('#code').boundingBox();
  if (codeBox.y + codeBox.height > 768) fail('the join code is below the first screen at 1024x768');
  await projector.screenshot({ path: join(SHOTS, 'play-projector-1024.png') });
  if (await projector.locator('button').count()) fail('the projector view has controls');

  // Two students, each in their own browser, join by the join page; team 1 on a phone.
  const students = [];
  const contexts = [
    { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
    { viewport: { width: 1280, height: 1000 } },
  ];
  for (const [i, options] of contexts.entries()) {
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    page.on('pageerror', e => errors.push(`team ${i + 1}: ` + e.message));
    await page.goto(addr.join);
    await page.getByRole('button', { name: 'Take this seat' }).first().click();
    await page.waitForURL(/\/seat\//);
    log(`student joined as ${await page.textContent('#team')}${i === 0 ? ' (a phone, 390x844)' : ''}`);
    students.push(page);
  }
  // One browser, one team: the phone cannot take team 2 as well.
  await students[0].goto(addr.join);
  await students[0].waitForSelector('#continue');
  if (await students[0].getByRole('button', { name: 'Take this seat' }).count()) fail('a browser holding a seat is offered another');
  await students[0].click('#continue');
  await students[0].waitForURL(/\/seat\//);

  // The clock waits for the start: nothing is asked, whatever time passes.
  await sleep(3000);
  for (const page of students) {
    const s = await seatState(page);
    if (s.q) fail('a question was put up before the start');
    const words = await page.textContent('#waiting-text');
    if (!/start the game/.test(words)) fail('the page does not say it waits for the start: ' + words);
  }
  stats.gate = '3 s before "Start the game": no question on either page ("Waiting for the facilitator to start the game")';
  await facilitator.click('#start');
  log('the facilitator started the game');

  // Team 2 plays over a slow network: 150 ms more on every request.
  await students[1].route('**', async (route) => { await sleep(150); await route.continue(); });
  // The phone: the question is the first thing on the page.
  await students[0].waitForSelector('#question:not([hidden]) #send', { timeout: 60000 });
  const qBox = await students[0].locator('#question').boundingBox();
  stats.phone = `390x844: the question starts ${Math.round(qBox.y)} px down (the first screen)`;
  if (qBox.y > 300) fail('on a phone the question is far down: ' + qBox.y);
  // Year 1: the first answer of team 1 is dropped on the way: the page must retry.
  let dropped = false;
  await students[0].route('**/answer', async (route) => {
    if (!dropped) { dropped = true; await route.abort('connectionreset'); return; }
    await route.continue();
  });
  const sawRetry = students[0].waitForFunction(() => /sending again/.test(document.getElementById('status').textContent), null, { timeout: 30000 }).then(() => { stats.retried += 1; });

  let refusedAll = false, released = false, attacked = false, paused = false, crossSite = false;
  // Team 1 leaves its year-3 decision unanswered: the question it skips.
  let skipped = null;
  // Plays both seats until year `untilYear` is reached (its question open) or the end.
  async function playUntil(untilYear) {
    for (;;) {
      let progressed = false;
      for (const [i, page] of students.entries()) {
        const state = await seatState(page);
        if (state.done || !state.q) continue;
        if (untilYear && state.q.year >= untilYear) continue;
        const q = state.q;
        if (i === 0 && skipped !== null && !stats.timeoutNotice) {
          // After its timeout, the page says what the game applied.
          if (q.id === skipped) continue;
          await page.waitForSelector('#notice:not([hidden])', { timeout: 30000 });
          stats.timeoutNotice = (await page.innerText('#notice')).trim().replace(/\.?\s*\n\s*/g, '. ').replace(/\s+/g, ' ');
          await page.screenshot({ path: join(SHOTS, 'play-seat-fallback.png') });
        }
        if (i === 0 && q.year === 3 && q.kind === 'decision' && skipped === null) {
          skipped = q.id; // left to time out (20 s) while team 2 plays on
          continue;
        }
        if (i === 0 && q.kind === 'decision' && q.year === 2 && !stats.shot) {
          stats.shot = true;
          await page.screenshot({ path: join(SHOTS, 'play-seat-phone.png') });
          await facilitator.screenshot({ path: join(SHOTS, 'play-facilitator.png'), fullPage: true });
        }
        if (i === 1 && q.year === 2 && stats.reloads === 0) {
          // A student reloads mid-question: the same question comes back.
          await page.reload();
          await page.waitForSelector('#question:not([hidden]) #send');
          if ((await page.evaluate(() => current.id)) !== q.id) fail('after a reload the open question changed');
          stats.reloads += 1;
        }
        if (i === 0 && q.year === 2 && q.kind === 'decision' && !paused) { paused = true; await clockControls(page); }
        if (i === 0 && q.year === 2 && !crossSite) { crossSite = true; await crossSiteForm(); }
        if (i === 1 && q.year === 2 && q.kind === 'decision' && !attacked) {
          attacked = true;
          await page.screenshot({ path: join(SHOTS, 'play-seat.png'), fullPage: true });
          await attacks(page); // answers the question under attack
          progressed = true;
          continue;
        }
        if (i === 1 && q.year === 5 && q.kind === 'decision' && !released) { released = true; await releaseAndTakeOver(); continue; }
        if (i === 1 && q.kind === 'decision' && q.year === 1 && !stats.reasked) {
          // Team 2's first decision puts every ship in both areas: the game refuses it.
          await answerOne(page, i, true);
          await page.waitForSelector('#refused:not([hidden])', { timeout: 30000 });
          stats.reasked = (await page.textContent('#refused')).slice(0, 160);
          stats.tries = await page.textContent('#tries');
          const kept = await page.inputValue('#field-deep');
          if (kept !== String((await page.evaluate(() => current.payload.observation.own.ships)))) fail('the re-ask cleared the form (deep: "' + kept + '")');
          if (!/rule bad/.test(await page.getAttribute('#rule', 'class'))) fail('the broken rule is not flagged');
          await page.screenshot({ path: join(SHOTS, 'play-seat-reask.png') });
          progressed = true;
          continue;
        }
        if (i === 1 && q.kind === 'decision' && q.year === 3 && !refusedAll) {
          // Refused at every try: the page says what the game applied.
          refusedAll = true;
          for (let t = 0; t < 3; t++) await answerOne(page, i, true);
          await page.waitForSelector('#notice:not([hidden])', { timeout: 30000 });
          stats.refusedNotice = (await page.innerText('#notice')).trim().replace(/\.?\s*\n\s*/g, '. ').replace(/\s+/g, ' ');
          progressed = true;
          continue;
        }
        await answerOne(page, i, false);
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

  // Pause: the clock stops on the student's page; resume; +1 minute adds a minute.
  async function clockControls(page) {
    const left0 = await page.evaluate(() => (deadline - Date.now()) / 1000);
    await facilitator.click('#pause');
    await page.waitForSelector('#paused:not([hidden])');
    await sleep(2500);
    const frozen = await page.textContent('#countdown');
    await facilitator.click('#pause'); // now "Resume the clock"
    await page.waitForSelector('#paused', { state: 'hidden' });
    const left1 = await page.evaluate(() => (deadline - Date.now()) / 1000);
    await facilitator.click('#extend');
    await page.waitForFunction((before) => (deadline - Date.now()) / 1000 > before + 50, left1, { timeout: 10000 });
    const left2 = await page.evaluate(() => (deadline - Date.now()) / 1000);
    stats.pause = `pause 2.5 s: the page said "${frozen}", ${left0.toFixed(1)} s left before, ${left1.toFixed(1)} s after; +1 minute: ${left2.toFixed(1)} s left`;
    if (frozen !== 'clock paused') fail('the paused clock: ' + frozen);
    if (left1 < left0 - 1.5) fail('the pause cost the question time: ' + stats.pause);
  }

  // A page of another site posts a form to the facilitator's pause: refused.
  async function crossSiteForm() {
    const evil = http.createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="POST" action="${base}/facilitator/pause"><input name="x" value="1"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise(r => evil.listen(0, '127.0.0.1', r));
    const evilPage = await facilitatorCtx.newPage();
    let status = 0;
    evilPage.on('response', r => { if (r.url().endsWith('/facilitator/pause')) status = r.status(); });
    const evilOrigin = `http://127.0.0.1:${evil.address().port}`;
    await evilPage.goto(evilOrigin + '/');
    await evilPage.waitForTimeout(1500);
    await evilPage.close();
    evil.close();
    const pausedNow = await facilitator.evaluate(() => last && last.paused);
    stats.crossSite = `a page of ${evilOrigin} posting a form to /facilitator/pause in the facilitator's browser: HTTP ${status}; the game paused: ${pausedNow ? 'yes' : 'no'}`;
    if (pausedNow) fail('a cross-site form paused the game');
    if (status !== 403) fail('the cross-site form got ' + status);
  }

  // Release team 2 (after confirming); its page says so; the student takes it back.
  async function releaseAndTakeOver() {
    const page = students[1];
    await facilitator.locator('#teams tr', { hasText: 'Team 2' }).getByRole('button', { name: 'Release' }).click();
    await facilitator.getByRole('button', { name: 'Yes, release' }).click();
    await page.waitForFunction(() => /released/.test(document.getElementById('waiting').textContent), null, { timeout: 30000 });
    const said = (await page.innerText('#waiting')).trim().replace(/\.?\s*\n\s*/g, '. ').replace(/\s+/g, ' ');
    if ((await page.locator('#question').isVisible())) fail('a released page keeps its form');
    await page.click('#waiting a');
    await page.getByRole('button', { name: 'Take this seat' }).first().click();
    await page.waitForURL(/\/seat\//);
    await page.waitForSelector('#question:not([hidden]) #send', { timeout: 30000 });
    const again = await page.textContent('#team');
    stats.release = `released after "Yes, release": the page said "${said}"; the student took ${again} again and found its open question`;
  }

  // The attacks, from 127.0.0.9, while team 2's year-2 decision waits (the facilitator
  // gives it two more minutes first).
  async function attacks(page) {
    await facilitator.click('#extend');
    await sleep(300);
    await facilitator.click('#extend');
    const joinUrl = addr.join;
    const path = new URL(joinUrl).pathname;
    // 1. A slowloris that reconnects after each header limit, 300 connections for 25 s.
    let running = true, reconnects = 0;
    const loris = async () => {
      while (running) {
        const s = await socket(ATTACKER);
        s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\n`);
        const drip = setInterval(() => { if (!s.destroyed) s.write('X-a: b\r\n'); }, 2000);
        await new Promise(r => { s.on('close', r); s.on('error', r); });
        clearInterval(drip);
        reconnects += 1;
      }
    };
    const lorisTasks = Array.from({ length: 300 }, loris);
    await sleep(1500);
    const chromeLoads = [];
    for (let i = 0; i < 6; i++) {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      const t0 = performance.now();
      const r = await p.goto(joinUrl, { timeout: 10000 }).catch(() => null);
      const ok = r && r.status() === 200 && await p.waitForSelector('.team', { timeout: 10000 }).then(() => true).catch(() => false);
      chromeLoads.push(ok ? performance.now() - t0 : null);
      await ctx.close();
      await sleep(2000);
    }
    const loads = await pageLoads(joinUrl, 30);
    running = false;
    await sleep(200);
    const okLoads = chromeLoads.filter(x => x !== null);
    stats.slowloris = `300 reconnecting connections from ${ATTACKER} (${reconnects} reconnects): ${okLoads.length} of 6 Chromium loads of the join page done (median ${okLoads.length ? median(okLoads).toFixed(0) : '-'} ms); ${loads.within} of ${loads.n} page loads from 127.0.0.1 within 3 s (median ${loads.median.toFixed(1)} ms)`;
    log(stats.slowloris);
    if (okLoads.length < 6 || loads.within < 27) fail('the slowloris stalled the class: ' + stats.slowloris);
    await Promise.race([Promise.all(lorisTasks), sleep(15000)]);

    // 2. 560 slow request bodies: POSTs declaring 1,000 bytes, one byte every 5 s.
    const claim = `${path}/claim`;
    const slow = [];
    for (let i = 0; i < 560; i++) {
      const s = await socket(ATTACKER);
      s.write(`POST ${claim} HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
      slow.push(s);
    }
    const drip = setInterval(() => { for (const s of slow) if (!s.destroyed) s.write(' '); }, 5000);
    await sleep(500);
    const underBodies = await pageLoads(joinUrl, 30);
    // A student's answer during the attack.
    const t0 = Date.now();
    await answerOne(page, 1, false);
    const answerMs = Date.now() - t0;
    clearInterval(drip);
    const closedByDeadline = slow.filter(s => s.destroyed || s.readableEnded).length;
    for (const s of slow) s.destroy();
    stats.slowBodies = `560 POSTs from ${ATTACKER} declaring 1,000 bytes, a byte every 5 s: ${underBodies.within} of ${underBodies.n} page loads from 127.0.0.1 within 3 s (median ${underBodies.median.toFixed(1)} ms, max ${underBodies.max.toFixed(0)} ms); team 2's answer took ${answerMs} ms`;
    log(stats.slowBodies);
    if (underBodies.within < 27) fail('slow bodies stalled the class: ' + stats.slowBodies);

    // 3. A burst: 100 connections opened at once, as browsers preconnect, then each
    // asks for a page.
    const burst = await Promise.all(Array.from({ length: 100 }, () => socket('127.0.0.1')));
    await sleep(300);
    const answered = await Promise.all(burst.map(s => new Promise((resolve) => {
      let head = '';
      s.on('data', d => { head += d; if (head.includes('\r\n\r\n')) resolve(/^HTTP\/1\.1 200/.test(head)); });
      s.on('close', () => resolve(/^HTTP\/1\.1 200/.test(head)));
      s.write(`GET ${path}/state HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\nConnection: close\r\n\r\n`);
    })));
    const n = answered.filter(Boolean).length;
    stats.burst = `100 connections opened at once, then each asking for a page: ${n} answered`;
    log(stats.burst);
    if (n !== 100) fail(stats.burst);
    for (const s of burst) s.destroy();

    // 4. 1,100 connections that never send a byte, from the attacker, held open.
    const idle = [];
    for (let i = 0; i < 1100; i++) idle.push(await socket(ATTACKER));
    const underIdle = await pageLoads(joinUrl, 50);
    stats.idle = `1,100 idle connections from ${ATTACKER}: ${underIdle.within} of 50 join-page loads within 3 s, median ${underIdle.median.toFixed(1)} ms, max ${underIdle.max.toFixed(1)} ms`;
    log(stats.idle);
    if (underIdle.within < 50) fail(stats.idle);
    for (const s of idle) s.destroy();
  }

  const reached = await playUntil(4);
  await sawRetry;
  if (!stats.timeoutNotice) {
    // Team 1's year-3 decision timed out: its page says what the game applied.
    await students[0].waitForSelector('#notice:not([hidden])', { timeout: 30000 });
    stats.timeoutNotice = (await students[0].innerText('#notice')).trim().replace(/\.?\s*\n\s*/g, '. ').replace(/\s+/g, ' ');
    await students[0].screenshot({ path: join(SHOTS, 'play-seat-fallback.png') });
  }
  // The projected screen at 1920x1080 mid-game.
  await projector.setViewportSize({ width: 1920, height: 1080 });
  await projector.screenshot({ path: join(SHOTS, 'play-projector.png') });
  const tallyBefore = await students[0].evaluate(() => lastSeat.tally);
  log(`year 4 reached (${reached}); team 1 answered ${stats.answered[0]}, team 2 ${stats.answered[1]}; dropped POST retried: ${stats.retried}`);

  // The host presses Ctrl-C mid-year 4.
  game.child.kill('SIGINT');
  const code = await game.exited;
  if (code !== 130) fail('play did not exit with 130 after Ctrl-C: ' + code);
  const stopped = runsRow();
  if (stopped.status !== 'stopped' || stopped.years !== 3) fail('runs.csv after the stop: ' + JSON.stringify(stopped));
  log(`stopped: runs.csv says ${stopped.status} after ${stopped.years} years`);
  await students[0].waitForFunction(() => /Stopped by the host/.test(document.getElementById('status').textContent), null, { timeout: 30000 });
  await sleep(2500);
  const stopSaid = await students[0].textContent('#status');
  if (/Connection lost/.test(stopSaid)) fail('the stop notice was covered: ' + stopSaid);

  // The host resumes: the same addresses; the pages carry on; the facilitator starts.
  game = startGame(['--exit-when-done', '--resume']);
  const again = await game.ready;
  if (again.join !== addr.join || again.facilitator !== addr.facilitator) fail('the resumed game has other addresses');
  log('resumed');
  await facilitator.goto(again.facilitator);
  await facilitator.waitForSelector('#start:not([hidden])');
  // The counters come back as the years played are replayed from the cache.
  await students[0].waitForFunction((before) => lastSeat && !lastSeat.started && JSON.stringify(lastSeat.tally) === before, JSON.stringify(tallyBefore), { timeout: 60000 })
    .catch(async () => fail('the counters did not come back: ' + JSON.stringify([tallyBefore, await students[0].evaluate(() => lastSeat && lastSeat.tally)])));
  const tallyAfter = await students[0].evaluate(() => lastSeat.tally);
  const seenAfter = await students[0].evaluate(() => lastSeat.seen.map(s => s.year));
  if (JSON.stringify(tallyAfter) !== JSON.stringify(tallyBefore)) fail('the counters changed across the resume: ' + JSON.stringify([tallyBefore, tallyAfter]));
  if (seenAfter[0] !== 1) fail('the early years were lost: ' + seenAfter);
  stats.resumeKept = `counters ${JSON.stringify(tallyAfter)} and years ${seenAfter.join(',')} as before the stop`;
  await facilitator.click('#start');
  const ending = await playUntil(null);
  log(`game ${ending}`);
  await facilitator.waitForSelector('#debrief:not([hidden])', { timeout: 60000 });
  await facilitator.waitForSelector('#d-catch polyline');
  await projector.waitForSelector('#debrief:not([hidden]) #d-sea polyline', { timeout: 30000 });
  await sleep(300);
  // Legible: the debrief's charts take the page's width, their labels 14 px or more.
  const chart = await projector.locator('#d-sea').boundingBox();
  const label = await projector.locator('#d-sea text').first().evaluate(n => n.getBoundingClientRect().height);
  stats.legible = `debrief chart at 1920x1080: ${Math.round(chart.width)} px wide, labels ${label.toFixed(0)} px high`;
  if (chart.width < 1000 || label < 14) fail('the debrief is not legible: ' + stats.legible);
  await projector.screenshot({ path: join(SHOTS, 'play-debrief.png'), fullPage: true });
  await projector.setViewportSize({ width: 1024, height: 768 });
  await sleep(400);
  const chartSmall = await projector.locator('#d-sea').boundingBox();
  const labelSmall = await projector.locator('#d-sea text').first().evaluate(n => n.getBoundingClientRect().height);
  stats.legible += `; at 1024x768: ${Math.round(chartSmall.width)} px, labels ${labelSmall.toFixed(0)} px`;
  if (labelSmall < 14) fail('the debrief at 1024x768: ' + stats.legible);
  const people = await facilitator.textContent('#debrief-body');
  if (!/timed out/.test(people)) fail('the debrief does not show people\'s timeouts');
  await students[1].waitForSelector('#ending:not([hidden]) table');
  await students[1].screenshot({ path: join(SHOTS, 'play-seat-end.png'), fullPage: true });
  await students[1].evaluate(() => window.scrollTo(0, 0));
  const endText = await students[1].textContent('#ending');
  if (!/finished/.test(endText)) fail('the seat\'s end page gives no result: ' + endText);
  const code2 = await game.exited;
  const final = runsRow();
  if (final.status !== 'ok' || final.years !== 6 || final.rows !== 1) fail('runs.csv at the end: ' + JSON.stringify(final));
  if (errors.length) fail('page errors: ' + errors.join('; '));
  if (stats.coveredStatus > 0) fail(`a status covered a newer question ${stats.coveredStatus} times`);
  if (!/not accepted/.test(stats.reasked)) fail('the re-ask was not shown: ' + stats.reasked);
  if (!/went on with/.test(stats.timeoutNotice || '') || !/went on with/.test(stats.refusedNotice || '')) fail('a fallback was not told: ' + stats.timeoutNotice + ' / ' + stats.refusedNotice);
  const messages = readFileSync(join(out, 'classroom', 'messages.csv'), 'utf8');
  if (!messages.includes('=HYPERLINK')) fail('the message was not recorded as written');
  const lat = [...stats.latencies].sort((a, b) => a - b);
  console.log('\nclass played: 2 students (join page; team 1 on a phone), 2 mock-LLM and 2 scripted teams, 6 years, 20 s per question');
  console.log(`facilitator    its link -> ${new URL(facilitatorAddress).pathname} (no secret in the address), cookie HttpOnly SameSite=Strict`);
  console.log(`start          ${stats.gate}`);
  console.log(`phone          ${stats.phone}`);
  console.log(`answers sent   team 1: ${stats.answered[0]}, team 2: ${stats.answered[1]}`);
  console.log(`dropped POST   retried by the page and accepted (${stats.retried} retry seen)`);
  console.log(`reload         ${stats.reloads} mid-question; the same question came back`);
  console.log(`re-ask         ${stats.reasked} | ${stats.tries}`);
  console.log(`refused        ${stats.refusedNotice}`);
  console.log(`timeout        ${stats.timeoutNotice}`);
  console.log(`slow network   team 2 with +150 ms per request: a status covered a newer question ${stats.coveredStatus} times`);
  console.log(`clock          ${stats.pause}`);
  console.log(`release        ${stats.release}`);
  console.log(`cross-site     ${stats.crossSite}`);
  console.log(`slowloris      ${stats.slowloris}`);
  console.log(`slow bodies    ${stats.slowBodies}`);
  console.log(`burst          ${stats.burst}`);
  console.log(`idle flood     ${stats.idle}`);
  console.log(`stop           Ctrl-C in year 4 -> exit 130, runs.csv: stopped, 3 years recorded; the page said "${stopSaid}"`);
  console.log(`resume         --resume -> same join and facilitator addresses; ${stats.resumeKept}; runs.csv: ${final.status}, ${final.years} years, ${final.rows} row; exit ${code2}`);
  console.log(`legible        ${stats.legible}`);
  console.log(`answer -> next state  median ${lat[Math.floor(lat.length / 2)]} ms, max ${lat[lat.length - 1]} ms (${lat.length} answers)`);
  console.log(`screenshots    ${SHOTS}/play-seat-phone.png, play-seat.png, play-seat-reask.png, play-seat-fallback.png, play-facilitator.png, play-projector-1024.png, play-projector.png, play-debrief.png, play-seat-end.png`);
  console.log(`results        ${join(out, 'classroom')}`);
  console.log(`wall           ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log('PASS');
  await browser.close();
}

main().catch(e => fail(e.stack || String(e)));
