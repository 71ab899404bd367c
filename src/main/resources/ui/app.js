// The auditors' page: filters, a hits-per-day chart, the hits table with links to MISP, exports.
// Plain DOM, no framework. Every value from a hit is set as text, never as HTML: alerts carry attacker-chosen strings.
'use strict';

// absolute, from the page's own address minus any user:password@ a browser may have been given
const API = location.origin + location.pathname.replace(/ui\/[^/]*$/, '') + 'v1/hits';
const FILTERS = ['from', 'to', 'indicator', 'indicator_type', 'agent_id', 'agent_name', 'misp_event_id',
  'misp_event_uuid', 'rule_id', 'min_severity', 'ruleset_version', 'origin'];
const SVG = 'http://www.w3.org/2000/svg';
const OBSERVATIONS = API.replace(/hits$/, 'observations');

const $ = (id) => document.getElementById(id);
let nextCursor = null;

function currentFilters() {
  const form = $('filters');
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value !== '') params.set(name, value);
  }
  return params;
}

function showFilters(params) {
  const form = $('filters');
  for (const name of FILTERS) form.elements[name].value = params.get(name) || '';
}

async function getJson(url) {
  const response = await fetch(url, {headers: {Accept: 'application/json'}, credentials: 'same-origin'});
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    if (response.status === 401) {
      throw new Error('This page needs an API token with the read role: reload it and give any user name and the '
        + 'token as password.');
    }
    throw new Error((body && body.error) || ('HTTP ' + response.status));
  }
  return body;
}

function showError(message) {
  const e = $('error');
  e.textContent = message || '';
  e.hidden = !message;
}

function cell(row, text, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.textContent = text == null ? '' : String(text);
  row.appendChild(td);
  return td;
}

/** Only http(s) links: a MISP URL is configuration, but a link is a link. */
function safeUrl(url) {
  return typeof url === 'string' && /^https?:\/\//i.test(url) ? url : null;
}

function addRow(hit) {
  const tr = document.createElement('tr');
  tr.className = 'hit';
  tr.dataset.id = hit.id;
  tr.dataset.occurred = hit.occurred_at;
  cell(tr, (hit.occurred_at || '').replace('T', ' ').replace(/\.\d+/, '').replace('Z', ''));
  cell(tr, hit.agent_name ? hit.agent_name + ' (' + hit.agent_id + ')' : hit.agent_id);
  cell(tr, hit.rule_id);
  const value = cell(tr, '', 'value');
  const type = document.createElement('span');
  type.className = 'type';
  type.textContent = hit.indicator_type;
  value.appendChild(type);
  value.appendChild(document.createTextNode(hit.indicator_value));
  const event = cell(tr, '');
  const label = (hit.misp_event_id ? '#' + hit.misp_event_id + ' ' : '') + (hit.misp_event_info || hit.misp_event_uuid);
  const url = safeUrl(hit.misp_event_url);
  if (url) {
    const a = document.createElement('a');
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.textContent = label;
    a.addEventListener('click', (e) => e.stopPropagation());
    event.appendChild(a);
  } else {
    event.textContent = label;
    event.title = (hit.misp_instance || '') + ' ' + (hit.misp_event_uuid || '');
  }
  cell(tr, hit.severity, 'sev');
  cell(tr, hit.origin);
  cell(tr, (hit.ruleset_version || '').slice(0, 19));
  tr.addEventListener('click', () => showDetail(hit.id));
  $('rows').appendChild(tr);
}

async function loadHits(append) {
  const params = currentFilters();
  params.set('limit', '100');
  if (append && nextCursor) params.set('cursor', nextCursor);
  const page = await getJson(API + '?' + params.toString());
  if (!append) $('rows').replaceChildren();
  page.hits.forEach(addRow);
  nextCursor = page.next_cursor;
  $('more').hidden = !nextCursor;
  const shown = $('rows').children.length;
  $('empty').hidden = shown > 0;
  $('count').textContent = shown + (nextCursor ? '+ shown' : ' shown');
}

/**
 * Without a time filter the chart shows the 30 days up to the newest hit shown (the API's own default is the last 30
 * days, which may be empty on a quiet or demo system).
 */
async function loadChart() {
  const params = currentFilters();
  params.set('top', '1');
  const newest = $('rows').firstElementChild;
  if (!params.has('from') && !params.has('to') && newest) {
    const last = new Date(newest.dataset.occurred.slice(0, 10) + 'T00:00:00Z');
    params.set('to', last.toISOString().slice(0, 10));
    params.set('from', new Date(last.getTime() - 29 * 86400000).toISOString().slice(0, 10));
  }
  const stats = await getJson(API + '/stats?' + params.toString());
  drawChart(stats.by_day);
  const days = stats.by_day;
  $('range').textContent = (days.length ? days[0].day + ' – ' + days[days.length - 1].day : '') + ' · '
    + stats.total + ' hits';
}

function drawChart(days) {
  const svg = $('chart');
  svg.replaceChildren();
  const width = 1000;
  const height = 180;
  const max = Math.max(1, ...days.map((d) => d.hits));
  const slot = width / Math.max(1, days.length);
  const gap = slot > 6 ? Math.min(4, slot * 0.2) : 0;
  days.forEach((d, i) => {
    const h = d.hits === 0 ? 0 : Math.max(2, (d.hits / max) * (height - 10));
    const rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('class', 'bar');
    rect.setAttribute('x', String(i * slot + gap / 2));
    rect.setAttribute('y', String(height - h));
    rect.setAttribute('width', String(Math.max(1, slot - gap)));
    rect.setAttribute('height', String(h));
    const title = document.createElementNS(SVG, 'title');
    title.textContent = d.day + ': ' + d.hits + ' hits';
    rect.appendChild(title);
    svg.appendChild(rect);
  });
  $('axis-first').textContent = days.length ? days[0].day : '';
  $('axis-max').textContent = 'max ' + max + ' per day';
  $('axis-last').textContent = days.length ? days[days.length - 1].day : '';
}

async function showDetail(id) {
  try {
    const hit = await getJson(API + '/' + encodeURIComponent(id));
    $('detail-id').textContent = '#' + id;
    $('detail-json').textContent = JSON.stringify(hit, null, 2);
    $('detail').hidden = false;
    $('detail').scrollIntoView({behavior: 'smooth'});
  } catch (e) {
    showError(e.message);
  }
}

function updateExports() {
  const params = currentFilters();
  for (const format of ['csv', 'ndjson']) {
    const p = new URLSearchParams(params);
    p.set('format', format);
    $('export-' + format).href = API + '?' + p.toString();
  }
}

async function search() {
  showError('');
  const params = currentFilters();
  history.replaceState(null, '', params.toString() ? '?' + params.toString() : location.pathname);
  updateExports();
  try {
    await loadHits(false);
    await loadChart();
  } catch (e) {
    showError(e.message);
  }
}

function shortTime(t) {
  return (t || '').replace('T', ' ').replace(/\.\d+/, '').replace('Z', '');
}

/** GET /v1/observations: who saw a value, hit or not. Every value is set as text. */
async function lookUpObservation() {
  showError('');
  const value = $('observations-form').elements.value.value.trim();
  const rows = $('observation-rows');
  rows.replaceChildren();
  $('observations').hidden = true;
  $('observations-summary').textContent = '';
  if (value === '') return;
  try {
    const answer = await getJson(OBSERVATIONS + '?' + new URLSearchParams({value}).toString());
    let agents = 0;
    for (const o of answer.observations) {
      for (const a of o.agents) {
        agents++;
        const tr = document.createElement('tr');
        cell(tr, o.type);
        cell(tr, a.manager);
        cell(tr, a.agent_name ? a.agent_name + ' (' + a.agent_id + ')' : a.agent_id);
        cell(tr, shortTime(a.first_seen));
        cell(tr, shortTime(a.last_seen));
        cell(tr, a.alerts);
        cell(tr, a.days);
        cell(tr, a.first_alert_id);
        cell(tr, a.last_alert_id);
        rows.appendChild(tr);
      }
    }
    $('observations').hidden = agents === 0;
    $('observations-summary').textContent = answer.seen
      ? 'Seen on ' + agents + ' agent(s), ' + answer.hits + ' hit(s) in the hits table, last '
        + answer.lookback_days + ' days kept.'
      : 'Not seen in the last ' + answer.lookback_days + ' days (' + answer.hits + ' hit(s) in the hits table).';
  } catch (e) {
    showError(e.message);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('observations-form').addEventListener('submit', (e) => { e.preventDefault(); lookUpObservation(); });
  // ?observation=VALUE: a link that opens the page on that question
  const observed = new URLSearchParams(location.search).get('observation');
  if (observed) {
    $('observations-form').elements.value.value = observed;
    lookUpObservation();
  }
  showFilters(new URLSearchParams(location.search));
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); search(); });
  $('filters').addEventListener('input', updateExports);
  $('clear').addEventListener('click', () => setTimeout(search, 0));
  $('more').addEventListener('click', () => loadHits(true).catch((e) => showError(e.message)));
  $('detail-close').addEventListener('click', () => { $('detail').hidden = true; });
  search();
});
