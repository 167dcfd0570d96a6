// Results: artifacts per model (download, delete, lineage), comparison charts with CSV export, and the
// capacity calculator (the gateway's /capacity endpoint: the same capacity code the jobs use).
import { get, post, del } from './api.js';
import { html, bytes, num, int, when, showError, clear, query, confirmDialog } from './util.js';
import { scatter, groupedBars, stackedBars, paretoFront } from './charts.js';
import { parameters, modelConfig } from './models.js';

const metric = (a, k) => (a.metrics || {})[k];
/** The artifact's type: the GGUF file type, else its recipe's label after the method. */
const typeOf = a => a.label.startsWith(a.method + ' ') ? a.label.slice(a.method.length + 1) : a.label;
/** Effective bits per weight: the artifact's bytes over the source model's parameters. */
const bpw = (a, params) => params ? a.totalBytes * 8 / params : null;

async function modelChoice(root, chosen, target) {
  const models = await get('/api/v1/models');
  const name = chosen || (models[0] && models[0].name) || '';
  return { models, name, select: html`<div class="field"><label for="pick-model">Model</label><select id="pick-model">
    ${models.map(m => html`<option ${m.name === name ? 'selected' : ''}>${m.name}</option>`)}</select></div>` };
}

function wireModelChoice(root, route) {
  const s = root.querySelector('#pick-model');
  if (s) s.addEventListener('change', () => { location.hash = `${route}?model=${encodeURIComponent(s.value)}`; });
}

async function paramsOf(model) {
  const c = await modelConfig(model);
  return c ? parameters(c) : null;
}

/** Columns shown for KL divergence / top-token agreement / task accuracy only when some artifact has them (eval-worker metric keys). */
function extraColumns(artifacts) {
  const keys = new Set(artifacts.flatMap(a => Object.keys(a.metrics || {})));
  return [['kld_mean', 'KL divergence'], ['same_top_p', 'Same top token'], ['mc_accuracy', 'Task accuracy']].filter(([k]) => keys.has(k));
}

export async function artifacts(root) {
  const { name, select } = await modelChoice(root, query().get('model'));
  const [list, params] = name ? await Promise.all([get(`/api/v1/artifacts?model=${encodeURIComponent(name)}`), paramsOf(name)]) : [[], null];
  const extra = extraColumns(list);
  root.innerHTML = html`<h1>Artifacts</h1>${select}
    ${list.length ? html`<form id="pick"><div class="scroll"><table id="artifacts"><caption>Artifacts of ${name}</caption>
      <thead><tr><th scope="col"><span class="sr-only">Compare</span></th><th scope="col">Artifact</th><th scope="col">Method</th><th scope="col">Type</th>
      <th scope="col">Bits per weight</th><th scope="col">Size</th><th scope="col">Perplexity</th><th scope="col">Δ Perplexity</th>
      ${extra.map(([, label]) => html`<th scope="col">${label}</th>`)}<th scope="col">Job</th><th scope="col">Actions</th></tr></thead><tbody>
      ${list.map(a => html`<tr data-artifact="${a.id}"><td><input type="checkbox" name="ids" value="${a.id}" checked aria-label="Compare ${a.label}"></td>
        <td><a href="#/artifacts/${encodeURIComponent(a.id)}">${a.label}</a></td><td>${a.method}</td><td>${typeOf(a)}</td>
        <td>${num(bpw(a, params), 2)}</td><td>${bytes(a.totalBytes)}</td><td>${num(metric(a, 'perplexity'))}</td><td>${num(metric(a, 'perplexity_delta'))}</td>
        ${extra.map(([k]) => html`<td>${num(metric(a, k))}</td>`)}
        <td><a href="#/jobs/${encodeURIComponent(a.lineage.jobId)}" title="${a.lineage.jobId}">${a.lineage.jobId.slice(0, 10)}…</a></td>
        <td class="actions">${a.files.length === 1 ? html`<a href="${downloadUrl(a, a.files[0])}" download aria-label="Download ${a.files[0].path}">Download</a>`
          : html`<a href="#/artifacts/${encodeURIComponent(a.id)}" aria-label="Files of ${a.label}">${a.files.length} files</a>`}
          <button type="button" class="danger" data-delete="${a.id}" aria-label="Delete ${a.label}">Delete</button></td></tr>`)}
      </tbody></table></div><button type="submit">Compare selected</button></form>`
      : html`<p>No artifacts for ${name || 'any model'} yet. <a href="#/jobs/new${name ? '?model=' + encodeURIComponent(name) : ''}">Submit a job</a>.</p>`}
    <div id="artifacts-error"></div>`.s;
  wireModelChoice(root, '#/artifacts');
  const pick = root.querySelector('#pick');
  if (pick) pick.addEventListener('submit', e => {
    e.preventDefault();
    const ids = [...pick.querySelectorAll('input[name=ids]:checked')].map(c => c.value);
    location.hash = `#/compare?model=${encodeURIComponent(name)}&ids=${ids.join(',')}`;
  });
  root.querySelectorAll('[data-delete]').forEach(b => b.addEventListener('click', async () => {
    if (!await confirmDialog(`Delete artifact ${b.dataset.delete}? Its files are removed from storage.`, 'Delete artifact')) return;
    try {
      await del(`/api/v1/artifacts/${encodeURIComponent(b.dataset.delete)}`);
      artifacts(root);
    } catch (e) { showError(root.querySelector('#artifacts-error'), e); }
  }));
}

const downloadUrl = (a, f) => `/api/v1/artifacts/${encodeURIComponent(a.id)}/download?path=${encodeURIComponent(f.path)}`;

export async function artifact(root, id) {
  const a = await get(`/api/v1/artifacts/${encodeURIComponent(id)}`);
  const l = a.lineage || {};
  const metrics = Object.entries(a.metrics || {}).sort(([x], [y]) => x.localeCompare(y));
  root.innerHTML = html`<h1>${a.label}</h1>
    <nav aria-label="Lineage" class="lineage"><ol>
      <li>Model <a href="#/models/${encodeURIComponent(l.modelName)}">${l.modelName}</a></li>
      <li>Job <a href="#/jobs/${encodeURIComponent(l.jobId)}">${l.jobId}</a> (task ${l.taskId})</li>
      <li>Artifact <strong>${a.id}</strong></li></ol></nav>
    <table class="kv"><tbody>
      <tr><th scope="row">Method</th><td>${a.method}</td></tr><tr><th scope="row">Type</th><td>${typeOf(a)}</td></tr>
      <tr><th scope="row">Size</th><td>${bytes(a.totalBytes)} (${int(a.totalBytes)} bytes)</td></tr>
      <tr><th scope="row">Recipe</th><td><code>${l.recipe}</code></td></tr><tr><th scope="row">Engine</th><td>${l.kernelsVersion}</td></tr>
      <tr><th scope="row">Created</th><td>${when(a.createdAt)}</td></tr></tbody></table>
    <section aria-labelledby="files-h"><h2 id="files-h">Files</h2><div class="scroll"><table><thead><tr><th scope="col">Path</th><th scope="col">Size</th><th scope="col">sha256</th><th scope="col">Download</th></tr></thead><tbody>
      ${a.files.map(f => html`<tr><td>${f.path}</td><td>${bytes(f.size)}</td><td><code class="hash">${f.sha256}</code></td>
        <td><a href="${downloadUrl(a, f)}" download>Download ${f.path}</a></td></tr>`)}</tbody></table></div></section>
    <section aria-labelledby="metrics-h"><h2 id="metrics-h">Metrics</h2><div class="scroll"><table><thead><tr><th scope="col">Metric</th><th scope="col">Value</th></tr></thead><tbody>
      ${metrics.map(([k, v]) => html`<tr><td>${k}</td><td>${Number.isInteger(v) ? int(v) : num(v, 6)}</td></tr>`)}</tbody></table></div></section>
    <p><button type="button" class="danger" id="delete">Delete artifact</button></p><div id="artifact-error"></div>`.s;
  root.querySelector('#delete').addEventListener('click', async () => {
    if (!await confirmDialog(`Delete artifact ${a.id}? Its files are removed from storage.`, 'Delete artifact')) return;
    try { await del(`/api/v1/artifacts/${encodeURIComponent(a.id)}`); location.hash = `#/artifacts?model=${encodeURIComponent(l.modelName)}`; }
    catch (e) { showError(root.querySelector('#artifact-error'), e); }
  });
}

/** GPUs and context of the capacity metrics ("capacity.L4.max_sequences_ctx512"). */
function capacityColumns(list) {
  const cols = new Map();
  for (const a of list) for (const k of Object.keys(a.metrics || {})) {
    const m = k.match(/^capacity\.(.+)\.max_sequences_ctx(\d+)$/);
    if (m) cols.set(k, { gpu: m[1], ctx: +m[2], key: k });
  }
  return [...cols.values()].sort((x, y) => x.gpu.localeCompare(y.gpu) || x.ctx - y.ctx);
}

function csv(rows) {
  return rows.map(r => r.map(v => { const s = v == null ? '' : String(v); return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; }).join(',')).join('\n') + '\n';
}

export async function compare(root) {
  const q = query();
  const { name, select } = await modelChoice(root, q.get('model'));
  const all = name ? await get(`/api/v1/artifacts?model=${encodeURIComponent(name)}`) : [];
  const ids = q.get('ids') ? q.get('ids').split(',') : all.map(a => a.id);
  const list = all.filter(a => ids.includes(a.id));
  const [params, model] = name ? await Promise.all([paramsOf(name), get(`/api/v1/models/${encodeURIComponent(name)}`)]) : [null, null];
  const cap = capacityColumns(list), extra = extraColumns(list);
  const header = ['Artifact', 'Method', 'Type', 'Bits per weight', 'Size', 'Perplexity', 'Δ Perplexity', ...extra.map(([, l]) => l),
    ...cap.map(c => `Sequences ${c.gpu} ctx ${c.ctx}`)];
  const csvHeader = header.map(h => h === 'Size' ? 'Size (bytes)' : h);
  const rows = list.map(a => [a.label, a.method, typeOf(a), bpw(a, params)?.toFixed(3), a.totalBytes, metric(a, 'perplexity'), metric(a, 'perplexity_delta'),
    ...extra.map(([k]) => metric(a, k)), ...cap.map(c => metric(a, c.key))]);
  const measured = list.filter(a => metric(a, 'perplexity') != null);
  const front = paretoFront(measured.map(a => ({ x: a.totalBytes, y: metric(a, 'perplexity'), a }))).map(p => p.a);
  root.innerHTML = html`<h1>Compare</h1>${select}
    <form id="pick" class="choices" aria-label="Artifacts to compare">${all.map(a => html`<span class="check"><input type="checkbox" id="c-${a.id}" value="${a.id}" ${ids.includes(a.id) ? 'checked' : ''}><label for="c-${a.id}">${a.label}</label></span>`)}</form>
    <div id="charts" class="charts"></div>
    <section aria-labelledby="table-h"><h2 id="table-h">Table</h2>
    <div class="scroll"><table id="compare-table"><thead><tr>${header.map(h => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>
      ${list.map((a, i) => html`<tr class="${front.includes(a) ? 'on-front' : ''}"><td><a href="#/artifacts/${encodeURIComponent(a.id)}">${a.label}</a>${front.includes(a) ? ' ★' : ''}</td>
        <td>${a.method}</td><td>${typeOf(a)}</td><td>${num(bpw(a, params), 2)}</td><td>${bytes(a.totalBytes)}</td><td>${num(metric(a, 'perplexity'))}</td>
        <td>${num(metric(a, 'perplexity_delta'))}</td>${extra.map(([k]) => html`<td>${num(metric(a, k))}</td>`)}${cap.map(c => html`<td>${int(metric(a, c.key))}</td>`)}</tr>`)}
    </tbody></table></div>
    <p>★ on the Pareto front: no other artifact is both smaller and lower in perplexity.</p>
    <p><a id="csv" download="${name}-compare.csv" href="#">Export CSV</a></p></section>`.s;
  const blob = new Blob([csv([csvHeader, ...rows])], { type: 'text/csv' });
  root.querySelector('#csv').href = URL.createObjectURL(blob);
  root.querySelector('#pick').addEventListener('change', e => {
    const chosen = [...e.currentTarget.querySelectorAll('input:checked')].map(c => c.value);
    location.hash = `#/compare?model=${encodeURIComponent(name)}&ids=${chosen.join(',')}`;
  });
  wireModelChoice(root, '#/compare');
  const charts = root.querySelector('#charts');
  if (measured.length) {
    const base = measured.map(a => metric(a, 'perplexity_base')).find(v => v != null);
    const baseBytes = model ? (model.files || []).filter(f => f.path.endsWith('.safetensors')).reduce((s, f) => s + f.size, 0) : 0;
    const points = measured.map(a => ({ label: a.label, x: a.totalBytes, y: metric(a, 'perplexity') }));
    if (base != null && baseBytes) points.push({ label: `${name} (base)`, x: baseBytes, y: base, kind: 'reference' });
    charts.append(scatter({ name: `Size vs perplexity of ${name} (Pareto front marked)`, xLabel: 'Size', yLabel: 'Perplexity', points, format: bytes }));
  } else charts.insertAdjacentHTML('beforeend', '<p>No perplexity measured for these artifacts: run a job with perplexity to see the size-vs-perplexity chart.</p>');
  const withKld = list.filter(a => metric(a, 'kld_mean') != null);
  if (withKld.length) charts.append(scatter({ name: `Size vs KL divergence from ${name} (Pareto front marked)`, xLabel: 'Size', yLabel: 'KL divergence',
    points: withKld.map(a => ({ label: a.label, x: a.totalBytes, y: metric(a, 'kld_mean') })), format: bytes }));
  if (cap.length) {
    const ctx = cap[0].ctx, cols = cap.filter(c => c.ctx === ctx);
    charts.append(groupedBars({ name: `Maximum concurrent sequences per GPU (context ${ctx})`, categories: cols.map(c => c.gpu),
      series: list.map(a => a.label), values: list.map(a => cols.map(c => metric(a, c.key) ?? null)), valueLabel: 'sequences', format: int }));
  }
}

export async function capacity(root) {
  const [models, gpus, catalog] = await Promise.all([get('/api/v1/models'), get('/api/v1/gpus'), get('/api/v1/catalog').catch(() => ({}))]);
  const artifacts = models.length ? await get('/api/v1/artifacts') : [];
  const kvDtypes = catalog.kvDtypes || ['fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4'];
  root.innerHTML = html`<h1>Capacity</h1>
    <p>How many sequences of a given context fit next to the weights, per GPU: weights, the KV cache budget and the runtime overhead.</p>
    <form id="capacity" class="card">
      <div class="field"><label for="cap-subject">Model or artifact</label><select id="cap-subject" name="subject">
        <optgroup label="Models">${models.map(m => html`<option value="model:${m.name}">${m.name}</option>`)}</optgroup>
        <optgroup label="Artifacts">${artifacts.map(a => html`<option value="artifact:${a.id}">${a.modelName} · ${a.label}</option>`)}</optgroup></select></div>
      <div role="group" aria-label="GPUs" class="gpus">${gpus.map((g, i) => html`<span class="check"><input type="checkbox" id="cgpu-${i}" value="${g.name}" ${i < 3 ? 'checked' : ''}><label for="cgpu-${i}">${g.name}</label></span>`)}</div>
      <div class="row"><div class="field"><label for="cap-ctx">Context</label><input id="cap-ctx" type="number" min="1" value="4096"></div>
      <div class="field"><label for="cap-kv">KV dtype</label><select id="cap-kv">${kvDtypes.map(k => html`<option ${k === 'fp16' ? 'selected' : ''}>${k}</option>`)}</select></div></div>
      <button type="submit">Calculate</button></form>
    <div id="capacity-error"></div><div id="capacity-result" aria-live="polite"></div>`.s;
  const form = root.querySelector('#capacity');
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const err = root.querySelector('#capacity-error'), out = root.querySelector('#capacity-result');
    clear(err);
    const [kind, id] = form.subject.value.split(/:(.*)/s);
    const body = { gpus: [...form.querySelectorAll('.gpus input:checked')].map(c => c.value), ctx: Number(root.querySelector('#cap-ctx').value), kvDtype: root.querySelector('#cap-kv').value };
    body[kind === 'model' ? 'modelId' : 'artifactId'] = id;
    let r;
    try { r = await post('/api/v1/capacity', body); } catch (ex) { showError(err, ex); out.innerHTML = ''; return; }
    const ok = r.rows.filter(x => x.report);
    out.innerHTML = html`<h2>${r.model}${r.artifactId ? ' · ' + r.artifactId : ''}: ${bytes(r.weightBytes)} of weights</h2>
      <div class="scroll"><table><thead><tr><th scope="col">GPU</th><th scope="col">Weights</th><th scope="col">KV cache budget</th><th scope="col">Overhead</th>
      <th scope="col">KV per token</th><th scope="col">Max tokens</th><th scope="col">Max sequences</th><th scope="col">Max sequences (paged)</th><th scope="col">Decode tokens/s</th></tr></thead><tbody>
      ${r.rows.map(x => x.report ? html`<tr><td>${x.gpu}</td><td>${bytes(x.report.weightsBytes)}</td><td>${bytes(x.report.kvBudgetBytes)}</td><td>${bytes(x.report.overheadBytes)}</td>
        <td>${bytes(x.report.kvBytesPerToken)}</td><td>${int(x.report.maxTokens)}</td><td>${int(x.report.maxSequences)}</td><td>${int(x.report.maxSequencesPaged)}</td><td>${int(x.report.decodeTokensPerSecond)}</td></tr>`
        : html`<tr><td>${x.gpu}</td><td colspan="8" class="bad">${x.problem}</td></tr>`)}</tbody></table></div>`.s;
    if (ok.length) out.append(stackedBars({ name: `Memory per GPU: weights, KV cache and overhead (context ${body.ctx}, ${body.kvDtype})`,
      categories: ok.map(x => x.gpu), partLabels: ['Weights', 'KV cache', 'Overhead'],
      parts: ok.map(x => [x.report.weightsBytes, x.report.kvBudgetBytes, x.report.overheadBytes]),
      total: ok.map(x => (gpus.find(g => g.name === x.gpu) || {}).memoryBytes), format: bytes }));
  });
}
