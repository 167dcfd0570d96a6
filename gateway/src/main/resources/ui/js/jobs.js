// Jobs: the recipe builder (generated from the engine's catalogue) with presets, eval options and a pre-flight;
// the job list; and a job page whose progress bars follow the job's server-sent events.
import { get, post, ApiError } from './api.js';
import { html, raw, bytes, num, seconds, when, showError, clear, words, query, confirmDialog, onLeave } from './util.js';

const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
const STATES = ['SUBMITTED', 'RUNNING', ...TERMINAL];

/** Presets: recipes to add, as the catalogue's parameters (the rest take the catalogue's defaults). */
function presets(catalog) {
  const gguf = catalog.methods.find(m => m.name === 'gguf');
  const fileTypes = gguf ? (gguf.parameters.find(p => p.name === 'fileType') || {}).allowed || [] : [];
  const list = [
    ['llama.cpp Q4_K_M', [{ method: 'gguf', fileType: 'Q4_K_M' }]],
    ['GPTQ 4-bit g128', [{ method: 'gptq', bits: 4, groupSize: 128 }]],
    ['AWQ 4-bit', [{ method: 'awq', bits: 4 }]],
    ['NF4 + double quant', [{ method: 'nf4', doubleQuant: true }]],
    ['vLLM compressed-tensors: W4A16 GPTQ, W8A8 + SmoothQuant, FP8', [
      { method: 'compressed-tensors', scheme: 'W4A16', algorithm: 'gptq' },
      { method: 'compressed-tensors', scheme: 'W8A8', smoothing: 0.5 },
      { method: 'compressed-tensors', scheme: 'FP8_DYNAMIC' }]],
    ['every GGUF K-mix', fileTypes.filter(t => /^Q\d_K/.test(t)).map(t => ({ method: 'gguf', fileType: t }))],
  ];
  const known = new Set(catalog.methods.map(m => m.name));
  return list.filter(([, recipes]) => recipes.length && recipes.every(r => known.has(r.method)));
}

function fieldId(path) { return 'f-' + path.replace(/[^A-Za-z0-9]+/g, '-'); }

/** One input for a catalogue parameter: a select for allowed values, a checkbox for booleans, else a number/text box. */
function parameterField(path, p, value) {
  const id = fieldId(path), label = p.name === 'fileType' ? 'File type' : words(p.name);
  const help = p.description ? html`<small id="${id}-help">${p.description}</small>` : '';
  const describedBy = `${p.description ? id + '-help ' : ''}${id}-error`;
  const error = html`<span class="field-error" id="${id}-error" aria-live="polite"></span>`;
  if (p.type === 'boolean')
    return html`<div class="field check"><input type="checkbox" id="${id}" data-field="${path}" data-type="boolean" ${value ? 'checked' : ''} aria-describedby="${describedBy}">
      <label for="${id}">${label}</label>${help}${error}</div>`;
  if (Array.isArray(p.allowed))
    return html`<div class="field"><label for="${id}">${label}</label>
      <select id="${id}" data-field="${path}" data-type="${p.type}" aria-describedby="${describedBy}">
      ${p.allowed.map(v => html`<option value="${v}" ${String(v) === String(value) ? 'selected' : ''}>${v}</option>`)}</select>${help}${error}</div>`;
  const numeric = p.type === 'integer' || p.type === 'number';
  return html`<div class="field"><label for="${id}">${label}</label>
    <input id="${id}" data-field="${path}" data-type="${p.type}" type="${numeric ? 'number' : 'text'}" ${numeric ? raw(`step="${p.type === 'integer' ? 1 : 'any'}"`) : ''}
      value="${value ?? ''}" aria-describedby="${describedBy}">${help}${error}</div>`;
}

function readValue(input) {
  const t = input.dataset.type;
  if (t === 'boolean') return input.checked;
  if (input.value === '') return null;
  if (t === 'integer') return Number.isInteger(Number(input.value)) ? Number(input.value) : input.value;
  if (t === 'number') return isNaN(Number(input.value)) ? input.value : Number(input.value);
  return input.value;
}

export async function form(root) {
  const [catalog, models, gpus] = await Promise.all([get('/api/v1/catalog'), get('/api/v1/models'), get('/api/v1/gpus')]);
  const methods = Object.fromEntries(catalog.methods.map(m => [m.name, m]));
  const kvDtypes = catalog.kvDtypes || ['fp16'];
  const ready = models.filter(m => m.state === 'READY');
  const chosen = query().get('model');
  let recipes = []; // [{method, values}]

  root.innerHTML = html`<h1>New job</h1>
    <form id="job" novalidate>
      <div class="field"><label for="f-modelId">Model</label>
        <select id="f-modelId" data-field="modelId" aria-describedby="f-modelId-error">
          ${ready.map(m => html`<option value="${m.name}" ${m.name === chosen ? 'selected' : ''}>${m.name}</option>`)}</select>
        <span class="field-error" id="f-modelId-error"></span></div>
      ${ready.length ? '' : html`<p class="problem">No READY model: <a href="#/models">upload one</a> first.</p>`}
      <section aria-labelledby="recipes-h" class="card"><h2 id="recipes-h">Recipes</h2>
        <p>Each recipe makes one artifact; several make a sweep. Only what the engine (${catalog.engineVersion}) can run is offered.</p>
        <div role="group" aria-label="Presets" class="presets">Presets:
          ${presets(catalog).map(([name], i) => html`<button type="button" class="secondary" data-preset="${i}">${name}</button>`)}</div>
        <div id="recipes"></div>
        <button type="button" id="add-recipe" class="secondary">Add recipe</button>
      </section>
      <section aria-labelledby="eval-h" class="card"><h2 id="eval-h">Evaluation</h2>
        <fieldset><legend><input type="checkbox" id="ppl-on" checked> <label for="ppl-on">Perplexity</label></legend>
          <div class="row">
          <div class="field"><label for="f-eval-perplexity-text">Evaluation text</label><input id="f-eval-perplexity-text" data-field="eval.perplexity.text" value="demo-stories" aria-describedby="f-eval-perplexity-text-error"><span class="field-error" id="f-eval-perplexity-text-error"></span></div>
          <div class="field"><label for="f-eval-perplexity-ctx">Perplexity context</label><input id="f-eval-perplexity-ctx" type="number" data-field="eval.perplexity.ctx" value="128" aria-describedby="f-eval-perplexity-ctx-error"><span class="field-error" id="f-eval-perplexity-ctx-error"></span></div>
          <div class="field"><label for="f-eval-perplexity-chunks">Chunks</label><input id="f-eval-perplexity-chunks" type="number" data-field="eval.perplexity.chunks" value="8" aria-describedby="f-eval-perplexity-chunks-error"><span class="field-error" id="f-eval-perplexity-chunks-error"></span></div>
          </div></fieldset>
        <fieldset><legend><input type="checkbox" id="kld-on"> <label for="kld-on">KL divergence against the source model (perplexity's text and context)</label></legend></fieldset>
        <fieldset><legend><input type="checkbox" id="mc-on"> <label for="mc-on">Multiple choice (HellaSwag format)</label></legend>
          <div class="row">
          <div class="field"><label for="f-eval-multipleChoice-tasks">Task file</label><input id="f-eval-multipleChoice-tasks" data-field="eval.multipleChoice.tasks" value="demo-stories.hellaswag" aria-describedby="f-eval-multipleChoice-tasks-error"><span class="field-error" id="f-eval-multipleChoice-tasks-error"></span></div>
          <div class="field"><label for="f-eval-multipleChoice-limit">Tasks (0 = all)</label><input id="f-eval-multipleChoice-limit" type="number" data-field="eval.multipleChoice.limit" value="0" aria-describedby="f-eval-multipleChoice-limit-error"><span class="field-error" id="f-eval-multipleChoice-limit-error"></span></div>
          </div></fieldset>
        <fieldset><legend><input type="checkbox" id="cap-on" checked> <label for="cap-on">Capacity</label></legend>
          <div role="group" aria-label="GPUs" class="gpus" data-field="eval.capacity.gpus">
            ${gpus.map((g, i) => html`<span class="check"><input type="checkbox" id="gpu-${i}" value="${g.name}" ${['L4', 'A100-40GB-PCIe', 'H100-80GB-SXM'].includes(g.name) ? 'checked' : ''}><label for="gpu-${i}">${g.name}</label></span>`)}
            <span class="field-error" id="f-eval-capacity-gpus-error"></span></div>
          <div class="row">
          <div class="field"><label for="f-eval-capacity-ctx">Capacity context</label><input id="f-eval-capacity-ctx" type="number" data-field="eval.capacity.ctx" value="512" aria-describedby="f-eval-capacity-ctx-error"><span class="field-error" id="f-eval-capacity-ctx-error"></span></div>
          <div class="field"><label for="f-eval-capacity-kvDtype">KV dtype</label><select id="f-eval-capacity-kvDtype" data-field="eval.capacity.kvDtype">
            ${kvDtypes.map(k => html`<option ${k === 'fp16' ? 'selected' : ''}>${k}</option>`)}</select><span class="field-error" id="f-eval-capacity-kvDtype-error"></span></div>
          </div></fieldset>
      </section>
      <section aria-labelledby="preflight-h" class="card"><h2 id="preflight-h">Pre-flight</h2>
        <div id="preflight" aria-live="polite"><p>Add a recipe to see its estimated size, memory and time.</p></div></section>
      <div id="job-error"></div>
      <button type="submit" id="submit-job">Submit job</button>
    </form>`.s;

  const form = root.querySelector('#job'), box = root.querySelector('#recipes');

  const renderRecipes = () => {
    box.innerHTML = recipes.length ? recipes.map((r, i) => {
      const m = methods[r.method];
      return html`<fieldset class="recipe"><legend>Recipe ${i + 1}: ${m.title}</legend>
        <div class="row"><div class="field"><label for="${fieldId(`recipes[${i}].method`)}">Method</label>
          <select id="${fieldId(`recipes[${i}].method`)}" data-recipe="${i}" class="method" aria-describedby="${fieldId(`recipes[${i}].method`)}-error">
          ${catalog.methods.map(x => html`<option value="${x.name}" ${x.name === r.method ? 'selected' : ''}>${x.title}</option>`)}</select>
          <span class="field-error" id="${fieldId(`recipes[${i}].method`)}-error"></span></div>
        ${m.parameters.map(p => parameterField(`recipes[${i}].${p.name}`, p, r.values[p.name]))}</div>
        ${m.description ? html`<p class="hint">${m.description}</p>` : ''}
        ${(m.rules || []).length ? html`<ul class="hint">${m.rules.map(x => html`<li>${x}</li>`)}</ul>` : ''}
        <button type="button" class="secondary remove" data-recipe="${i}" aria-label="Remove recipe ${i + 1}">Remove</button></fieldset>`.s;
    }).join('') : '<p>No recipe yet: add one or pick a preset.</p>';
    schedulePreflight();
  };
  const add = spec => {
    const m = methods[spec.method];
    const values = Object.fromEntries(m.parameters.map(p => [p.name, spec[p.name] ?? p.default]));
    recipes.push({ method: spec.method, values });
  };
  const collect = () => { // the form's recipe values back into the model, so a re-render keeps them
    box.querySelectorAll('[data-field^="recipes["]').forEach(input => {
      const [, i, name] = input.dataset.field.match(/^recipes\[(\d+)\]\.(.+)$/);
      recipes[i].values[name] = readValue(input);
    });
  };

  root.querySelector('#add-recipe').addEventListener('click', () => { collect(); add({ method: catalog.methods[0].name }); renderRecipes(); box.querySelector('fieldset:last-of-type select.method').focus(); });
  root.querySelectorAll('[data-preset]').forEach(b => b.addEventListener('click', () => {
    collect();
    presets(catalog)[b.dataset.preset][1].forEach(add);
    renderRecipes();
  }));
  box.addEventListener('change', e => {
    if (e.target.classList.contains('method')) {
      collect();
      const i = +e.target.dataset.recipe;
      recipes[i] = null;
      const r = { method: e.target.value };
      const m = methods[r.method];
      recipes[i] = { method: r.method, values: Object.fromEntries(m.parameters.map(p => [p.name, p.default])) };
      renderRecipes();
      document.getElementById(fieldId(`recipes[${i}].method`)).focus();
    } else schedulePreflight();
  });
  box.addEventListener('click', e => {
    if (!e.target.classList.contains('remove')) return;
    collect();
    recipes.splice(+e.target.dataset.recipe, 1);
    renderRecipes();
  });
  form.addEventListener('change', e => { if (!box.contains(e.target)) schedulePreflight(); });

  const spec = () => {
    collect();
    const v = id => root.querySelector(id).value;
    const n = id => root.querySelector(id).value === '' ? null : Number(root.querySelector(id).value);
    const evalSpec = {};
    if (root.querySelector('#ppl-on').checked) evalSpec.perplexity = { text: v('#f-eval-perplexity-text'), ctx: n('#f-eval-perplexity-ctx'), chunks: n('#f-eval-perplexity-chunks') };
    if (root.querySelector('#kld-on').checked) evalSpec.kld = true;
    if (root.querySelector('#mc-on').checked) evalSpec.multipleChoice = { tasks: v('#f-eval-multipleChoice-tasks'), limit: n('#f-eval-multipleChoice-limit') ?? 0 };
    if (root.querySelector('#cap-on').checked) evalSpec.capacity = {
      gpus: [...root.querySelectorAll('.gpus input:checked')].map(c => c.value), ctx: n('#f-eval-capacity-ctx'), kvDtype: v('#f-eval-capacity-kvDtype') };
    return {
      modelId: v('#f-modelId'),
      // only what differs from the catalogue's default: the engine fills the rest and adapts some to the model
      // (e.g. GPTQ's calibration length to the model's context)
      recipes: recipes.map(r => {
        const defaults = Object.fromEntries(methods[r.method].parameters.map(p => [p.name, p.default]));
        return { method: r.method, ...Object.fromEntries(Object.entries(r.values).filter(([k, x]) => x !== null && x !== defaults[k])) };
      }),
      eval: Object.keys(evalSpec).length ? evalSpec : null,
    };
  };

  const clearFieldErrors = () => root.querySelectorAll('.field-error').forEach(e => { e.textContent = ''; });
  /** Puts each error next to its field; returns the errors that match no field. */
  const showFieldErrors = (errors, prefix = '') => {
    const rest = [];
    for (const { field, message } of errors) {
      const path = prefix + field;
      const target = document.getElementById(fieldId(path) + '-error') || document.getElementById(fieldId(path.replace(/\[\d+\]$/, '')) + '-error');
      if (target) {
        target.textContent = message;
        const input = document.getElementById(fieldId(path));
        if (input) input.setAttribute('aria-invalid', 'true');
      } else rest.push({ field: path, message });
    }
    return rest;
  };

  let timer = null, generation = 0;
  function schedulePreflight() {
    clearTimeout(timer);
    timer = setTimeout(preflight, 300);
  }
  onLeave(() => clearTimeout(timer));
  async function preflight() {
    const out = root.querySelector('#preflight');
    if (!out) return;
    const s = spec(), mine = ++generation;
    if (!s.recipes.length || !s.modelId) { out.innerHTML = '<p>Add a recipe to see its estimated size, memory and time.</p>'; return; }
    const rows = await Promise.all(s.recipes.map(recipe => post('/api/v1/catalog/estimate', { modelId: s.modelId, recipe }).catch(e => e)));
    if (mine !== generation) return; // a newer pre-flight is on its way
    root.querySelectorAll('[data-field^="recipes["]').forEach(i => i.removeAttribute('aria-invalid'));
    root.querySelectorAll('#recipes .field-error').forEach(e => { e.textContent = ''; });
    // problems come as a 400 (a malformed request) or as a 200 whose figures are null and "problems" lists why
    const problemsOf = r => r instanceof ApiError ? r.fieldErrors : (r.problems || []).map(p => typeof p === 'string' ? { field: '', message: p } : p);
    rows.forEach((r, i) => showFieldErrors(problemsOf(r).filter(e => e.field).map(e => ({ ...e, field: e.field.replace(/^recipe\b/, `recipes[${i}]`) }))));
    out.innerHTML = html`<div class="scroll"><table><thead><tr><th scope="col">Recipe</th><th scope="col">Output size</th><th scope="col">Peak memory</th>
      <th scope="col">Simulated GPU</th><th scope="col">Fits</th><th scope="col">Estimated time</th><th scope="col">Problems</th></tr></thead><tbody>
      ${rows.map((r, i) => r instanceof ApiError
        ? html`<tr><td>${i + 1}. ${s.recipes[i].method}</td><td colspan="5">${r.problem.title}: ${r.problem.detail}</td><td>${r.fieldErrors.map(e => e.message).join('; ')}</td></tr>`
        : r.outputBytes == null
        ? html`<tr><td>${i + 1}. ${s.recipes[i].method}</td><td colspan="5" class="bad">cannot run as it is</td><td>${problemsOf(r).map(p => p.message).join('; ')}</td></tr>`
        : html`<tr><td>${i + 1}. ${s.recipes[i].method}</td><td>${bytes(r.outputBytes)}</td><td>${bytes(r.peakDeviceBytes)} of ${bytes(r.deviceBytes)}</td>
           <td>${r.gpu}</td><td class="${r.fits ? 'ok' : 'bad'}">${r.fits ? 'fits' : 'does not fit'}</td><td>${seconds(r.estimatedSeconds)}</td>
           <td>${problemsOf(r).map(p => p.message).join('; ')}</td></tr>`)}
      </tbody></table></div>`.s;
  }

  form.addEventListener('submit', async e => {
    e.preventDefault();
    const err = root.querySelector('#job-error'), button = root.querySelector('#submit-job');
    clear(err);
    clearFieldErrors();
    root.querySelectorAll('[aria-invalid]').forEach(i => i.removeAttribute('aria-invalid'));
    const s = spec();
    if (!s.recipes.length) { showError(err, { problem: { title: 'No recipe', detail: 'add a recipe or pick a preset' } }); return; }
    button.disabled = true;
    try {
      const accepted = await post('/api/v1/jobs', s);
      location.hash = `#/jobs/${encodeURIComponent(accepted.jobId)}?submitted`;
    } catch (ex) {
      if (ex instanceof ApiError) {
        const rest = showFieldErrors(ex.fieldErrors);
        showError(err, new ApiError(ex.status, { ...ex.problem, errors: rest }));
        const first = root.querySelector('[aria-invalid="true"]');
        if (first) first.focus();
      } else showError(err, ex);
    } finally { button.disabled = false; }
  });

  renderRecipes();
}

export async function list(root) {
  const q = query();
  const state = q.get('state') || '', model = q.get('model') || '', page = Math.max(0, +(q.get('page') || 0)), size = 20;
  const params = new URLSearchParams({ page, size });
  if (state) params.set('state', state);
  if (model) params.set('model', model);
  const [result, models] = await Promise.all([get('/api/v1/jobs?' + params), get('/api/v1/models')]);
  const pages = Math.max(1, Math.ceil(result.total / size));
  const link = p => { const x = new URLSearchParams(q); x.set('page', p); return '#/jobs?' + x; };
  root.innerHTML = html`<h1>Jobs</h1>
    <p><a class="button" href="#/jobs/new">New job</a></p>
    <form id="filters" class="row" role="search" aria-label="Filter jobs">
      <div class="field"><label for="filter-state">State</label><select id="filter-state" name="state"><option value="">any</option>
        ${STATES.map(s => html`<option ${s === state ? 'selected' : ''}>${s}</option>`)}</select></div>
      <div class="field"><label for="filter-model">Model</label><select id="filter-model" name="model"><option value="">any</option>
        ${models.map(m => html`<option ${m.name === model ? 'selected' : ''}>${m.name}</option>`)}</select></div>
    </form>
    <div class="scroll"><table><thead><tr><th scope="col">Job</th><th scope="col">Model</th><th scope="col">State</th><th scope="col">Recipes</th>
      <th scope="col">Progress</th><th scope="col">Submitted</th><th scope="col">Wall time</th></tr></thead><tbody>
      ${result.items.map(j => html`<tr><td><a href="#/jobs/${encodeURIComponent(j.id)}">${j.id}</a></td><td>${j.model}</td><td><span class="state ${j.state}">${j.state}</span></td>
        <td>${(j.tasks || []).filter(t => t.kind !== 'eval').map(t => t.label).join(', ')}</td><td>${j.progress == null ? '—' : Math.round(j.progress * 100) + ' %'}</td>
        <td>${when(j.submittedAt)}</td><td>${seconds(j.wallSeconds)}</td></tr>`)}
    </tbody></table></div>
    ${result.items.length ? '' : html`<p>No jobs${state || model ? ' match these filters' : ' yet'}.</p>`}
    <nav aria-label="Pages" class="pager">${page > 0 ? html`<a href="${link(page - 1)}">Previous page</a>` : ''}
      <span>Page ${page + 1} of ${pages} (${result.total} jobs)</span>${page + 1 < pages ? html`<a href="${link(page + 1)}">Next page</a>` : ''}</nav>`.s;
  root.querySelector('#filters').addEventListener('change', e => {
    const x = new URLSearchParams();
    const f = e.currentTarget;
    if (f.state.value) x.set('state', f.state.value);
    if (f.model.value) x.set('model', f.model.value);
    location.hash = '#/jobs?' + x;
  });
}

function taskHtml(t) {
  const pct = Math.round((t.progress ?? 0) * 100);
  const where = t.blocks ? `block ${t.block ?? 0} of ${t.blocks}` : t.state === 'SUCCEEDED' ? 'done' : t.state === 'RUNNING' ? 'running' : 'waiting';
  return html`<li class="task" data-task="${t.id}">
    <div class="task-head"><strong>${t.label || t.kind}</strong> <span class="kind">${t.kind}</span>
      <span class="state ${t.state}" data-task-state>${t.state}</span>${t.attempt > 1 ? html` <span>attempt ${t.attempt} of ${t.maxAttempts}</span>` : ''}</div>
    <div class="bar" role="progressbar" aria-label="${t.label || t.kind} progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${pct}"
      aria-valuetext="${pct} %, ${where}${t.module ? ', ' + t.module : ''}"><span style="width:${pct}%"></span></div>
    <div class="task-facts">${pct} % · ${where}${t.module ? html` · module <code>${t.module}</code>` : ''} · simulated GPU ${seconds(t.gpuSeconds)} vs wall ${seconds(t.wallSeconds)}
      ${t.etaSeconds != null && !TERMINAL.includes(t.state) ? html` · ETA ${seconds(t.etaSeconds)}` : ''}${t.gpu ? html` · on ${t.gpu}` : ''}</div>
    ${t.error ? html`<p class="problem" role="alert">Failed: ${t.error}</p>` : ''}
    ${t.artifactId ? html`<p><a href="#/artifacts/${encodeURIComponent(t.artifactId)}">artifact ${t.artifactId}</a></p>` : ''}
  </li>`;
}

/**
 * The job; right after a submit it may not be known yet (the gateway answers 202 once Kafka has the job, and the
 * job-service records it a moment later), so a fresh job is asked for again for a while before "not found" stands.
 */
async function firstLook(root, id, fresh) {
  for (let wait = 100; ; wait = Math.min(2000, wait * 2)) {
    try {
      return await get(`/api/v1/jobs/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404 && fresh && Date.now() < fresh)) throw e;
      root.innerHTML = html`<h1>Job ${id}</h1><p role="status">Submitted; waiting for the job service to plan it…</p>`.s;
      await new Promise(r => setTimeout(r, wait));
    }
  }
}

export async function page(root, id) {
  let job = await firstLook(root, id, query().has('submitted') ? Date.now() + 60_000 : 0);
  root.innerHTML = html`<h1>Job ${id}</h1>
    <p class="job-state">State: <strong id="job-state" class="state" aria-live="polite"></strong> <span id="job-facts"></span></p>
    <p class="actions"><button type="button" id="cancel-job" class="danger">Cancel job</button> <a id="job-model" href="#"></a></p>
    <div id="job-error"></div>
    <section aria-labelledby="tasks-h"><h2 id="tasks-h">Tasks</h2><ul id="tasks" class="tasks"></ul></section>
    <section id="job-results" aria-labelledby="results-h" hidden><h2 id="results-h">Results</h2><div id="results-body"></div></section>`.s;
  const render = async j => {
    job = j;
    root.querySelector('#job-state').textContent = j.state;
    root.querySelector('#job-state').className = 'state ' + j.state;
    root.querySelector('#job-facts').textContent = ` · model ${j.model} · submitted ${when(j.submittedAt)} · ${Math.round((j.progress ?? 0) * 100)} % · wall ${seconds(j.wallSeconds)} · simulated GPU ${seconds(j.gpuSeconds)}`
      + (j.etaSeconds != null && !TERMINAL.includes(j.state) ? ` · ETA ${seconds(j.etaSeconds)}` : '');
    const model = root.querySelector('#job-model');
    model.href = `#/models/${encodeURIComponent(j.model)}`;
    model.textContent = `Model ${j.model}`;
    root.querySelector('#cancel-job').hidden = TERMINAL.includes(j.state);
    root.querySelector('#tasks').innerHTML = (j.tasks || []).map(taskHtml).map(x => x.s).join('');
    if (j.error) showError(root.querySelector('#job-error'), { problem: { title: `Job ${j.state.toLowerCase()}`, detail: j.error } });
    if (TERMINAL.includes(j.state)) await showResults(j);
  };
  const showResults = async j => {
    const artifacts = await get(`/api/v1/artifacts?job=${encodeURIComponent(j.id)}`);
    const section = root.querySelector('#job-results');
    if (!section || !artifacts.length) return;
    section.hidden = false;
    section.querySelector('#results-body').innerHTML = html`<p><a href="#/compare?model=${encodeURIComponent(j.model)}&ids=${artifacts.map(a => a.id).join(',')}">Compare these ${artifacts.length} artifacts</a></p>
      <div class="scroll"><table><thead><tr><th scope="col">Artifact</th><th scope="col">Size</th><th scope="col">Perplexity</th><th scope="col">Δ Perplexity</th></tr></thead><tbody>
      ${artifacts.map(a => html`<tr><td><a href="#/artifacts/${encodeURIComponent(a.id)}">${a.label}</a></td><td>${bytes(a.totalBytes)}</td>
        <td>${num((a.metrics || {}).perplexity)}</td><td>${num((a.metrics || {}).perplexity_delta)}</td></tr>`)}</tbody></table></div>`.s;
  };
  await render(job);

  root.querySelector('#cancel-job').addEventListener('click', async () => {
    if (!await confirmDialog(`Cancel job ${id}? Its running tasks stop at their next block; finished artifacts stay.`, 'Cancel job', 'Keep running')) return;
    try {
      await post(`/api/v1/jobs/${encodeURIComponent(id)}/cancel`);
      root.querySelector('#job-facts').textContent += ' · cancelling…';
    } catch (e) { showError(root.querySelector('#job-error'), e); }
  });

  if (TERMINAL.includes(job.state) || !root.isConnected) return;
  // Live: the stream's snapshot, then one event per change; each event re-reads the job (coalesced), so the
  // page shows the same numbers as GET /jobs/{id}.
  const source = new EventSource(`/api/v1/jobs/${encodeURIComponent(id)}/events`);
  let pending = null;
  const refresh = () => {
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      try {
        const j = await get(`/api/v1/jobs/${encodeURIComponent(id)}`);
        if (!root.isConnected) return;
        await render(j);
        if (TERMINAL.includes(j.state)) source.close();
      } catch (e) { showError(root.querySelector('#job-error'), e); }
    }, 150);
  };
  source.addEventListener('snapshot', e => { const j = JSON.parse(e.data); render(j); if (TERMINAL.includes(j.state)) source.close(); });
  source.addEventListener('task', refresh);
  source.addEventListener('job', refresh);
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) refresh(); };
  onLeave(() => { source.close(); clearTimeout(pending); });
}
