// Admin: tenants and their API keys (each key is shown once, when it is created; revoke by id).
import { get, post, del } from './api.js';
import { html, showError, clear, when, confirmDialog } from './util.js';
import { session } from './app.js';

export async function page(root) {
  if (!session.admin) { root.innerHTML = '<h1>Admin</h1><p class="problem">This page needs an admin key.</p>'; return; }
  const tenants = await get('/api/v1/admin/tenants');
  const keys = await Promise.all(tenants.map(t => get(`/api/v1/admin/tenants/${encodeURIComponent(t.id)}/keys`)));
  root.innerHTML = html`<h1>Admin</h1>
    <section aria-labelledby="tenants-h"><h2 id="tenants-h">Tenants</h2>
    <div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Keys</th></tr></thead><tbody>
    ${tenants.map((t, i) => html`<tr><td>${t.name}</td><td><code>${t.id}</code></td><td>
      <ul class="keys">${keys[i].map(k => html`<li><code>${k.id}</code>${k.admin ? ' (admin)' : ''} · created ${when(k.createdAt)}
        <button type="button" class="danger" data-revoke="${k.id}" data-tenant="${t.id}" aria-label="Revoke key ${k.id} of ${t.name}">Revoke</button></li>`)}</ul>
      <button type="button" class="secondary" data-key="${t.id}" data-admin="false" aria-label="New key for ${t.name}">New key</button>
      <button type="button" class="secondary" data-key="${t.id}" data-admin="true" aria-label="New admin key for ${t.name}">New admin key</button></td></tr>`)}
    </tbody></table></div></section>
    <section aria-labelledby="new-tenant-h" class="card"><h2 id="new-tenant-h">New tenant</h2>
      <form id="new-tenant"><label for="tenant-name">Tenant name</label><input id="tenant-name" name="name" required placeholder="team-a">
      <button type="submit">Create tenant</button></form></section>
    <div id="admin-error"></div>
    <div id="new-key" aria-live="polite"></div>`.s;
  const err = root.querySelector('#admin-error'), out = root.querySelector('#new-key');
  const showKey = (tenant, key) => {
    out.innerHTML = html`<div class="card key" role="status"><p>New API key for <strong>${tenant}</strong> — copy it now, it is not shown again:</p>
      <p><output id="created-key">${key}</output> <button type="button" id="copy-key" class="secondary">Copy</button></p></div>`.s;
    out.querySelector('#copy-key').addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText(key));
  };
  root.querySelector('#new-tenant').addEventListener('submit', async e => {
    e.preventDefault();
    clear(err);
    try {
      const t = await post('/api/v1/admin/tenants', { name: e.currentTarget.name.value });
      await page(root);
      showKey(t.name, t.apiKey);
    } catch (ex) { showError(err, ex); }
  });
  root.querySelectorAll('[data-revoke]').forEach(b => b.addEventListener('click', async () => {
    if (!await confirmDialog(`Revoke key ${b.dataset.revoke}? Requests with it are refused from now on.`, 'Revoke key')) return;
    try { await del(`/api/v1/admin/tenants/${encodeURIComponent(b.dataset.tenant)}/keys/${encodeURIComponent(b.dataset.revoke)}`); await page(root); }
    catch (ex) { showError(err, ex); }
  }));
  root.querySelectorAll('[data-key]').forEach(b => b.addEventListener('click', async () => {
    clear(err);
    try {
      const k = await post(`/api/v1/admin/tenants/${encodeURIComponent(b.dataset.key)}/keys`, { admin: b.dataset.admin === 'true' });
      showKey(b.dataset.key, k.apiKey);
    } catch (ex) { showError(err, ex); }
  }));
}
