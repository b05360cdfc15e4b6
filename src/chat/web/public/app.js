// vmbot web console: one page, no framework. Everything a member typed is shown with
// textContent (never parsed as HTML), and every POST carries the X-Vmbot-As header (CSRF guard).
'use strict';

const state = { session: null, view: 'member', cards: new Map(), order: [], events: null, refreshTimer: null };

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** Creates an element with text content (never HTML) and attributes. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/**
 * vmbot's messages mark commands and file names with backticks (chat markup): show those parts
 * as <code>. Built from text nodes only, so nothing in the message is ever parsed as HTML.
 */
function rich(text) {
  const out = document.createDocumentFragment();
  String(text).split(/`([^`\n]+)`/).forEach((part, i) => {
    if (!part) return;
    out.append(i % 2 ? el('code', { text: part }) : document.createTextNode(part));
  });
  return out;
}

/** Puts the messages of problems into a node (replacing what it showed). */
function showMessages(node, problems) {
  node.replaceChildren();
  problems.forEach((p, i) => node.append(i ? ' ' : '', rich(p.message)));
}

async function api(path, options = {}) {
  const init = { method: options.method ?? 'GET', headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (init.method !== 'GET') {
    init.headers['Content-Type'] = 'application/json';
    init.headers['X-Vmbot-As'] = state.view;
    init.body = JSON.stringify(options.body ?? {});
  }
  const sep = path.includes('?') ? '&' : '?';
  const url = init.method === 'GET' && state.session?.mode === 'local' ? `${path}${sep}as=${state.view}` : path;
  let res;
  try {
    res = await fetch(url, init);
  } catch {
    return { ok: false, problems: [{ code: 'unreachable', message: 'vmbot did not answer: is it still running?' }] };
  }
  try {
    return await res.json();
  } catch {
    return { ok: false, problems: [{ code: 'http_' + res.status, message: `vmbot answered ${res.status} without details` }] };
  }
}

// vmbot's own steps are recorded as the command-line actor "system": show them as vmbot, not "(cli)".
const who = (m) => {
  if (!m) return '';
  const name = m.displayName || m.userId;
  if (m.platform === 'cli') return m.userId === 'system' ? name : `${name} (command line)`;
  return `${name} (${m.platform})`;
};
const isLocal = () => state.session?.mode === 'local';

// ---------- problems next to their fields ----------

function clearErrors(form) {
  for (const p of $$('[data-error-for]', form)) p.replaceChildren();
}

function showProblems(form, problems) {
  for (const problem of problems) {
    const slot = (problem.field && $(`[data-error-for="${CSS.escape(problem.field)}"]`, form)) || $('[data-error-for="_form"]', form);
    if (!slot) continue;
    slot.append(slot.childNodes.length ? ' ' : '', rich(problem.message));
  }
}

// ---------- request form ----------

async function loadForm() {
  const res = await api('/api/form');
  if (!res.ok) return;
  const form = $('#request-form');
  const fill = (select, options) => {
    select.replaceChildren(...options.map((o) => el('option', { value: o.value, text: o.label })));
  };
  fill(form.elements.distro, res.value.distros);
  fill(form.elements.size, res.value.sizes);
  if (res.value.prefill.login && !form.elements.login.value) form.elements.login.value = res.value.prefill.login;
  if (res.value.prefill.sshKeys && !form.elements.sshKeys.value) form.elements.sshKeys.value = res.value.prefill.sshKeys;
}

async function submitRequest(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const body = Object.fromEntries(['name', 'distro', 'size', 'login', 'sshKeys', 'reason'].map((k) => [k, form.elements[k].value]));
  const button = $('button[type=submit]', form);
  button.disabled = true;
  const res = await api('/api/requests', { method: 'POST', body });
  button.disabled = false;
  if (!res.ok) return showProblems(form, res.problems);
  form.elements.name.value = '';
  form.elements.reason.value = '';
  $('[data-error-for="_form"]', form).textContent = '';
  refreshSoon();
}

// ---------- cards ----------

/** A request in one of these states is over: its card hides unless "Show finished" is ticked. */
const FINISHED = new Set(['denied', 'cancelled', 'deleted']);
/** No VM behind these any more (or soon): their cards show no address to ssh to. */
const GONE = new Set(['deleting', 'deleted', 'denied', 'cancelled']);

function upsertCard(card) {
  const known = state.cards.get(card.requestId);
  if (known && known.version > card.version) return; // an older view arrived late
  if (!known) state.order.unshift(card.requestId);
  state.cards.set(card.requestId, card);
  const node = renderCard(card);
  const old = document.getElementById(`card-${card.requestId}`);
  if (old) old.replaceWith(node);
  else $('#cards').prepend(node);
  updateCardsFilter();
}

/** Shows live cards, and the finished ones only with the toggle; says so when nothing is shown. */
function updateCardsFilter() {
  const showFinished = $('#show-finished').checked;
  let finished = 0;
  let shown = 0;
  for (const node of $$('#cards .card')) {
    const isFinished = FINISHED.has(node.dataset.state);
    if (isFinished) finished++;
    node.hidden = isFinished && !showFinished;
    if (!node.hidden) shown++;
  }
  $('#show-finished-label').textContent = finished ? `Show finished (${finished})` : 'Show finished';
  $('#show-finished').closest('label').hidden = finished === 0;
  const empty = $('#cards-empty');
  empty.hidden = shown > 0;
  empty.textContent = finished ? `No live requests; ${finished} finished (tick “Show finished” to see them).` : 'No requests yet.';
}

function renderCard(card) {
  const details = el('dl', {});
  const row = (term, value) => {
    if (value) details.append(el('dt', { text: term }), el('dd', { text: value }));
  };
  row('Requested by', who(card.requester));
  row('Distribution', card.distroLabel);
  row('Size', card.sizeLabel);
  row('Login', card.login);
  row('Reason', card.reason);
  row('Quota (use before this request)', card.quota);
  row('Lease', card.lease);
  if (card.renewalRequestedAt) row('Renewal asked', `${who(card.requester)} asked for a renewal ${new Date(card.renewalRequestedAt).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}: approve or deny it below.`);
  if (card.decision) row(card.decision.verb[0].toUpperCase() + card.decision.verb.slice(1) + ' by', who(card.decision.by) + (card.decision.reason ? ` — ${card.decision.reason}` : ''));

  const progress = el('ol', { class: 'progress', 'aria-label': 'Progress' });
  for (const item of card.progress) {
    // A gone VM's address is no longer its: the step stays ticked, without the address.
    const detail = item.step === 'address' && GONE.has(card.state) ? undefined : item.detail;
    progress.append(el('li', { 'data-step': item.step, 'data-status': item.status }, el('span', { text: item.label }), detail ? el('span', { class: 'detail', text: detail }) : null));
  }

  const node = el('article', { class: 'card', id: `card-${card.requestId}`, 'data-state': card.state, 'data-request': card.requestId },
    el('h3', {}, el('span', { class: 'name', text: card.name }), el('span', { class: 'state', text: card.stateLabel })),
    details,
    card.progress.length ? progress : null,
    card.address && !GONE.has(card.state) ? el('p', { class: 'address' }, el('span', { text: 'Address: ' }), el('code', { class: 'ssh', text: card.address.ssh })) : null,
    card.failure ? el('div', { class: 'failure' }, el('p', {}, rich(card.failure.message), ` (${card.failure.code})`), card.failure.consoleTail?.length ? el('pre', { text: card.failure.consoleTail.join('\n') }) : null) : null,
  );
  if (isLocal()) node.append(cardActions(card));
  node.hidden = FINISHED.has(card.state) && !$('#show-finished').checked;
  return node;
}

function cardActions(card) {
  const error = el('p', { class: 'form-error', role: 'alert' });
  // The workflow says what each side may do: the admin's card actions, the requester's own.
  const actions = state.view === 'admin' ? card.actions : (card.ownerActions ?? []);
  return el('div', {}, actionButtons(actions, error), error);
}

/** What the page knows of an action kind (GET /api/session: src/workflow/views.ts ACTIONS + notices.ts wording). */
const actionInfo = (kind) => state.session?.actions?.[kind] ?? {};

/**
 * Buttons for CardActions (on a card, or with a notice). Every kind posts to
 * /api/requests/<id>/<kind>; one that needs a reason asks for it first, one that needs a
 * confirmation asks for a second press.
 */
function actionButtons(actions, error) {
  const box = el('div', { class: 'actions' });
  const run = async (action, body) => {
    error.textContent = '';
    const res = await api(`/api/requests/${encodeURIComponent(action.requestId)}/${encodeURIComponent(action.kind)}`, { method: 'POST', body });
    if (!res.ok) showMessages(error, res.problems);
    refreshSoon();
  };
  for (const action of actions) {
    const info = actionInfo(action.kind);
    const button = el('button', { type: 'button', class: action.style, 'data-action': action.kind, text: action.label });
    button.addEventListener('click', () => {
      if (action.needs === 'reason') {
        const hint = info.reason?.hint ?? 'Reason';
        const reason = el('input', { name: 'reason', placeholder: hint, 'aria-label': hint });
        const confirm = el('button', { type: 'button', class: action.style, 'data-action': `${action.kind}-confirm`, text: info.reason?.submit ?? action.label });
        confirm.addEventListener('click', () => run(action, { reason: reason.value }));
        button.replaceWith(reason, confirm);
        reason.focus();
      } else if (action.needs === 'confirmation') {
        const confirm = el('button', { type: 'button', class: action.style, 'data-action': `${action.kind}-confirm`, title: info.confirm?.detail ?? '', text: `${info.confirm?.yes ?? action.label}?` });
        confirm.addEventListener('click', () => run(action));
        button.replaceWith(confirm);
      } else run(action);
    });
    box.append(button);
  }
  return box;
}

/** Admins: a date box that sets when the VM's lease ends (POST /api/vms/<id>/expiry; the workflow decides who may). */
function expiryControl(vm) {
  const open = el('button', { type: 'button', 'data-action': 'expiry', text: 'Set expiry', title: `When the lease of ${vm.name} ends` });
  open.addEventListener('click', () => {
    const date = el('input', { type: 'date', name: 'expiry', 'aria-label': `Last day of ${vm.name}'s lease` });
    const set = el('button', { type: 'button', class: 'primary', 'data-action': 'expiry-confirm', text: 'Set' });
    set.addEventListener('click', async () => {
      const r = await api(`/api/vms/${encodeURIComponent(vm.requestId)}/expiry`, { method: 'POST', body: { date: date.value } });
      showMessages($('#vms-error'), r.ok ? [] : r.problems);
      refreshSoon();
    });
    open.replaceWith(date, set);
    date.focus();
  });
  return open;
}

async function loadCards() {
  const res = await api('/api/cards');
  if (!res.ok) return;
  state.cards.clear();
  state.order = [];
  $('#cards').replaceChildren();
  for (const card of [...res.value].reverse()) upsertCard(card);
  updateCardsFilter();
}

// ---------- VMs, IP look-up ----------

/** The power actions a VM's row offers in its state (the workflow decides again on the press). */
const POWER_BY_STATE = { running: ['stop', 'reboot', 'rebuild'], stopped: ['start', 'rebuild'] };

/** Stop/Start/Reboot/Rebuild for a VM's row: the cards' buttons (actionButtons), so Rebuild asks for a second press. */
function powerButtons(vm) {
  const kinds = POWER_BY_STATE[vm.state] ?? [];
  if (!kinds.length) return null;
  return actionButtons(kinds.map((kind) => {
    const info = actionInfo(kind);
    return { kind, requestId: vm.requestId, label: info.label ?? kind, style: info.style ?? 'default', needs: info.needs };
  }), $('#vms-error'));
}

async function loadVms() {
  const res = await api('/api/vms');
  const body = $('#vms tbody');
  showMessages($('#vms-error'), res.ok ? [] : res.problems);
  if (!res.ok) return;
  if (!res.value.length) return body.replaceChildren(emptyRow(7, state.view === 'admin' ? 'No VMs yet.' : 'No VMs yet: request one above.'));
  body.replaceChildren(...res.value.map((vm) => {
    const del = actionInfo('delete');
    const remove = el('button', { type: 'button', class: 'danger', 'data-action': 'delete', text: del.label ?? 'Delete' });
    remove.addEventListener('click', () => {
      const confirm = el('button', { type: 'button', class: 'danger', 'data-action': 'delete-confirm', title: del.confirm?.detail ?? '', text: `${del.confirm?.yes ?? 'Delete'} ${vm.name}?` });
      confirm.addEventListener('click', async () => {
        const r = await api(`/api/vms/${encodeURIComponent(vm.requestId)}/delete`, { method: 'POST' });
        showMessages($('#vms-error'), r.ok ? [] : r.problems);
        refreshSoon();
      });
      remove.replaceWith(confirm);
    });
    const deletable = !['deleting', 'deleted', 'denied', 'cancelled', 'pending'].includes(vm.state);
    const logs = el('button', { type: 'button', 'data-action': 'logs', text: 'Console', title: `The last 40 lines of ${vm.name}'s console` });
    logs.addEventListener('click', () => showConsoleLog(vm.name));
    return el('tr', { 'data-vm': vm.name },
      el('td', { class: 'mono', 'data-label': 'Name', text: vm.name }),
      el('td', { 'data-label': 'Owner', text: who(vm.owner) }),
      el('td', { 'data-label': 'State' }, vm.stateLabel, vm.lease ? el('div', { class: 'lease', text: `Lease: ${vm.lease}` }) : null),
      el('td', { 'data-label': 'Distribution', text: vm.distroLabel }),
      el('td', { 'data-label': 'Size', text: vm.sizeLabel }),
      el('td', { class: 'mono', 'data-label': 'Address', text: (GONE.has(vm.state) ? '' : vm.ssh ?? vm.ipv4) ?? '' }),
      el('td', { class: 'actions-cell', 'data-label': '' }, powerButtons(vm), deletable ? logs : null, deletable ? remove : null, isLocal() && state.view === 'admin' && vm.lease ? expiryControl(vm) : null));
  }));
}

/** `/vm logs`: a VM's last console lines (already fit to show by the workflow), under the table, as text. */
async function showConsoleLog(name) {
  const box = $('#console-log');
  const res = await api(`/api/logs?name=${encodeURIComponent(name)}`);
  showMessages($('#vms-error'), res.ok ? [] : res.problems);
  if (!res.ok) {
    box.hidden = true;
    return;
  }
  const log = res.value;
  $('#console-log-title').textContent = log.lines.length
    ? `Last ${log.lines.length} console lines of ${log.name} (allocation ${log.allocation})`
    : `The console of ${log.name} (allocation ${log.allocation}) is empty so far.`;
  $('#console-log-lines').textContent = log.lines.join('\n');
  $('#console-log-lines').hidden = log.lines.length === 0;
  box.hidden = false;
}

/** A table row that says the table is empty. */
function emptyRow(columns, text) {
  return el('tr', { class: 'empty-row' }, el('td', { colspan: columns, class: 'empty', text }));
}

async function lookUpIp(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const name = form.elements.name.value.trim();
  const out = $('#ip-result');
  const error = $('[data-error-for="name"]', form);
  out.replaceChildren();
  error.replaceChildren();
  // Checked here, not sent: an empty look-up has no answer worth a round trip.
  if (!name) {
    error.textContent = 'Type the name of a VM to look up.';
    form.elements.name.focus();
    return;
  }
  const res = await api(`/api/ip?name=${encodeURIComponent(name)}`);
  if (!res.ok) showProblems(form, res.problems.map((p) => ({ ...p, field: 'name' })));
  else if (res.value.ssh && !GONE.has(res.value.state)) out.replaceChildren(el('code', { class: 'ssh', text: res.value.ssh }));
  else out.textContent = `${res.value.name}: ${res.value.stateLabel} (no address${GONE.has(res.value.state) ? '' : ' yet'})`;
}

// ---------- admin: pool and audit ----------

function holderText(holder) {
  if (holder.kind === 'request') return `${holder.vmName} (${holder.state})`;
  if (holder.kind === 'reserved') return `reserved${holder.note ? `: ${holder.note}` : ''}`;
  return `hand-made job ${holder.jobId}`;
}

async function loadPool() {
  const res = await api('/api/pool');
  if (!res.ok) return;
  const u = res.value;
  $('#pool-summary').textContent = `${u.free} free of ${u.total} — ${u.used} used by requests, ${u.reserved} reserved, ${u.external} on hand-made jobs`;
  const rows = u.holders.map((h) => el('tr', {}, el('td', { class: 'mono', 'data-label': 'MAC', text: h.mac }), el('td', { 'data-label': 'Held by', text: holderText(h.holder) })));
  $('#pool tbody').replaceChildren(...(rows.length ? rows : [emptyRow(2, 'No MAC address in use.')]));
}

async function loadAudit() {
  const res = await api('/api/audit');
  if (!res.ok) return;
  // The store gives the newest rows oldest first; the page shows the newest on top.
  const rows = [...res.value].reverse().map((row) => el('tr', { 'data-action': row.action },
    el('td', { class: 'nowrap', 'data-label': 'When', text: new Date(row.at).toLocaleString([], { dateStyle: 'short', timeStyle: 'medium' }) }),
    el('td', { 'data-label': 'Who', text: who(row.actor) }),
    el('td', { class: 'action', 'data-label': 'Action', title: row.action, text: actionWords(row.action) }),
    el('td', { 'data-label': 'VM', text: row.vmName ?? '' }),
    el('td', { 'data-label': 'Detail', text: row.detail ?? '' })));
  $('#audit tbody').replaceChildren(...(rows.length ? rows : [emptyRow(5, 'Nothing recorded yet.')]));
}

/** Audit action codes in plain words; the code itself stays in the title and in the JSON download. */
const ACTION_WORDS = {
  request: 'requested a VM',
  approve: 'approved',
  deny: 'denied',
  cancel: 'cancelled',
  retry: 'retried',
  delete: 'asked to delete',
  stop: 'stopped the VM',
  start: 'started the VM',
  reboot: 'rebooted the VM',
  rebuild: 'asked to rebuild',
  stop_delayed: 'stop delayed',
  mac_allocated: 'MAC address assigned',
  mac_reserved: 'MAC address reserved',
  mac_released: 'MAC address released',
  job_submitted: 'VM job sent to the cluster',
  job_adopted: 'running job taken over',
  job_not_ours: 'job left alone (not vmbot’s)',
  delete_delayed: 'delete delayed',
  address_refreshed: 'address refreshed',
  host_keys_late: 'SSH host keys sent',
  doctor: 'health check',
  lease_reminder: 'lease reminder sent',
  lease_expired: 'lease ended: stopped',
  lease_delete: 'lease over: deleting',
  renew: 'renewed the lease',
  renew_requested: 'asked the admins for a renewal',
  approve_renewal: 'approved a renewal',
  deny_renewal: 'denied a renewal',
  set_expiry: 'set the lease end',
};
const STATE_WORDS = {
  provisioning: 'being set up',
  running: 'up and running',
  stopped: 'stopped',
  failed: 'failed',
  lost: 'gone from the cluster',
  deleting: 'being deleted',
  deleted: 'deleted',
  approved: 'approved',
  pending: 'waiting for approval',
  denied: 'denied',
  cancelled: 'cancelled',
};
function actionWords(code) {
  if (Object.hasOwn(ACTION_WORDS, code)) return ACTION_WORDS[code];
  const transition = /^state:([a-z_]+)->([a-z_]+)$/.exec(code);
  if (transition) return `now ${STATE_WORDS[transition[2]] ?? transition[2].replace(/_/g, ' ')}`;
  const refused = /^([a-z]+)_refused$/.exec(code);
  if (refused) return `${refused[1]} refused`;
  return code.replace(/[_:]/g, ' ').replace(/->/g, ' → ');
}

// ---------- notices ----------

/** A notice's words (the server sends them: src/workflow/notices.ts) as DOM, text nodes only. */
function wordingNodes(wording) {
  const out = document.createDocumentFragment();
  const lines = (text) => String(text).split('\n').forEach((line, i) => {
    if (i) out.append(el('br'));
    if (line) out.append(document.createTextNode(line));
  });
  for (const span of wording ?? []) {
    if ('text' in span) lines(span.text);
    else if ('strong' in span) out.append(el('strong', { text: span.strong }));
    else if ('code' in span) out.append(el('code', { text: span.code }));
    else if ('member' in span) out.append(document.createTextNode(who(span.member)));
    else if ('quote' in span) out.append(el('q', { class: 'quote', text: span.quote }));
  }
  return out;
}

function addNotice(n) {
  const item = el('li', { 'data-kind': n.kind }, wordingNodes(n.wording));
  if (isLocal() && n.actions?.length) {
    const error = el('p', { class: 'form-error', role: 'alert' });
    item.append(actionButtons(n.actions, error), error);
  }
  $('#notices').prepend(item);
}

async function loadNotices() {
  const res = await api('/api/notices');
  $('#notices').replaceChildren();
  if (res.ok) for (const n of res.value) addNotice(n);
}

// ---------- live updates ----------

function connect() {
  state.events?.close();
  const url = isLocal() ? `/api/events?as=${state.view}` : '/api/events';
  const events = new EventSource(url);
  state.events = events;
  events.addEventListener('open', () => { $('#connection').textContent = 'live'; });
  events.addEventListener('error', () => { $('#connection').textContent = 'reconnecting…'; });
  events.addEventListener('card', (e) => {
    upsertCard(JSON.parse(e.data));
    refreshSoon();
  });
  events.addEventListener('notice', (e) => addNotice(JSON.parse(e.data)));
}

/** Lists, pool and audit follow the cards; many card events in a burst make one refresh. */
function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refreshLists, 150);
}

function refreshLists() {
  const jobs = [];
  if (isLocal()) jobs.push(loadVms());
  if (state.view === 'admin' || !isLocal()) jobs.push(loadPool(), loadAudit());
  return Promise.all(jobs);
}

async function applyView(view) {
  state.view = view;
  document.body.dataset.view = view;
  for (const b of $$('#view-switch button')) b.setAttribute('aria-pressed', String(b.dataset.view === view));
  for (const section of $$('[data-views]')) section.hidden = !section.dataset.views.split(' ').includes(view);
  for (const section of $$('[data-local]')) if (!isLocal()) section.hidden = true;
  connect();
  const jobs = [loadCards(), refreshLists()];
  if (isLocal() && view === 'member') jobs.push(loadForm(), loadNotices());
  await Promise.all(jobs);
  document.body.dataset.ready = view;
}

async function start() {
  const session = await fetch('/api/session', { credentials: 'same-origin' }).then((r) => r.json());
  state.session = session;
  if (session.banner) {
    $('#sim-banner').textContent = session.banner;
    $('#sim-banner').hidden = false;
  }
  $('#readonly-banner').hidden = !session.readOnly;
  $('#view-switch').hidden = session.mode !== 'local';
  for (const b of $$('#view-switch button')) b.addEventListener('click', () => applyView(b.dataset.view));
  $('#request-form').addEventListener('submit', submitRequest);
  $('#ip-form').addEventListener('submit', lookUpIp);
  $('#show-finished').addEventListener('change', updateCardsFilter);
  if (session.mode === 'local') $('#audit-json').href = '/api/audit?as=admin';
  await applyView(session.mode === 'local' ? 'member' : 'admin');
}

start();
