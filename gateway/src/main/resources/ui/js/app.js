// The shell: who is signed in, navigation, and the hash router that renders one page into <main>.
import { get, post, del, ApiError } from './api.js';
import { html, showError, clear, leavePage } from './util.js';
import * as models from './models.js';
import * as jobs from './jobs.js';
import * as results from './results.js';
import * as admin from './admin.js';
import * as recommend from './recommend.js';

const main = document.getElementById('main');
const flash = document.getElementById('flash');
export const session = { tenant: null, admin: false, signedIn: false };

const routes = [
  [/^#\/signin$/, signInPage],
  [/^#\/models$/, models.list],
  [/^#\/models\/([^/?]+)$/, models.page],
  [/^#\/jobs$/, jobs.list],
  [/^#\/jobs\/new$/, jobs.form],
  [/^#\/jobs\/([^/?]+)$/, jobs.page],
  [/^#\/artifacts$/, results.artifacts],
  [/^#\/artifacts\/([^/?]+)$/, results.artifact],
  [/^#\/compare$/, results.compare],
  [/^#\/capacity$/, results.capacity],
  [/^#\/recommend$/, recommend.form],
  [/^#\/recommendations\/([^/?]+)$/, recommend.page],
  [/^#\/admin$/, admin.page],
];

async function route() {
  leavePage();
  clear(flash);
  const hash = location.hash || '#/models';
  const path = hash.split('?')[0];
  if (!session.signedIn && path !== '#/signin') { location.replace('#/signin'); return; }
  if (session.signedIn && !session.tenant && path !== '#/admin') { location.replace('#/admin'); return; }
  for (const [re, render] of routes) {
    const m = path.match(re);
    if (!m) continue;
    markCurrent(path);
    // each navigation renders into its own container: a slower earlier page that finishes late writes into a
    // container that is no longer shown, instead of over the page the user went to since
    const root = document.createElement('div');
    root.innerHTML = '<p class="loading">Loading…</p>';
    main.replaceChildren(root);
    try {
      await render(root, ...m.slice(1).map(decodeURIComponent));
    } catch (e) {
      if (!root.isConnected) return;
      if (e instanceof ApiError && e.status === 401) { await refreshSession(); location.replace('#/signin'); return; }
      root.innerHTML = '';
      showError(root, e);
      console.error(e);
    }
    if (!root.isConnected) return;
    const h1 = main.querySelector('h1');
    if (h1) { document.title = `${h1.textContent} — Featherweight`; }
    return;
  }
  main.innerHTML = html`<h1>Not found</h1><p>No page at ${hash}. <a href="#/models">Models</a></p>`.s;
}

function markCurrent(path) {
  document.querySelectorAll('#nav a').forEach(a => {
    const here = path === a.getAttribute('href') || path.startsWith(a.getAttribute('href') + '/');
    if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
}

async function refreshSession() {
  try {
    const who = await get('/api/v1/session');
    Object.assign(session, who, { signedIn: true });
  } catch {
    Object.assign(session, { tenant: null, admin: false, signedIn: false });
  }
  renderNav();
}

function renderNav() {
  const nav = document.getElementById('nav');
  const user = document.getElementById('user');
  if (!session.signedIn) { nav.innerHTML = ''; user.innerHTML = ''; return; }
  const links = session.tenant ? [['#/models', 'Models'], ['#/jobs', 'Jobs'], ['#/artifacts', 'Artifacts'], ['#/compare', 'Compare'], ['#/capacity', 'Capacity'], ['#/recommend', 'Recommend']] : [];
  if (session.admin) links.push(['#/admin', 'Admin']);
  nav.innerHTML = html`<ul>${links.map(([href, label]) => html`<li><a href="${href}">${label}</a></li>`)}</ul>`.s;
  user.innerHTML = html`<span class="who">${session.tenant ? 'tenant ' + session.tenant : 'bootstrap admin'}${session.admin ? ' · admin' : ''}</span>
    <button type="button" id="sign-out">Sign out</button>`.s;
  document.getElementById('sign-out').addEventListener('click', async () => {
    try { await del('/api/v1/session'); } catch (e) { showError(flash, e); return; }
    await refreshSession();
    location.hash = '#/signin';
  });
}

async function signInPage(root) {
  if (session.signedIn) { location.replace('#/models'); return; }
  root.innerHTML = html`<h1>Sign in</h1>
    <p>Sign in with an API key of your tenant (an administrator creates it; <code>bin/featherweight</code> prints the demo key).
       The key is exchanged for a session cookie that scripts cannot read; the page never stores it.</p>
    <form id="signin" class="card narrow">
      <label for="api-key">API key</label>
      <input id="api-key" name="apiKey" type="password" autocomplete="current-password" required spellcheck="false">
      <div id="signin-error"></div>
      <button type="submit">Sign in</button>
    </form>`.s;
  const form = root.querySelector('#signin');
  root.querySelector('#api-key').focus();
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const errors = root.querySelector('#signin-error');
    clear(errors);
    try {
      await post('/api/v1/session', { apiKey: form.apiKey.value });
    } catch (err) {
      showError(errors, err);
      form.apiKey.select();
      return;
    }
    await refreshSession();
    location.hash = session.tenant ? '#/models' : '#/admin';
  });
}

window.addEventListener('hashchange', route);
await refreshSession();
route();
