// Models: the list, upload of a Hugging Face folder (files or one .tar/.zip) with progress, import by
// reference, and a model page with its architecture and base perplexity.
import { get, upload, post } from './api.js';
import { html, bytes, when, num, int, showError, clear } from './util.js';

const modelBytes = m => (m.files || []).reduce((a, f) => a + f.size, 0);

export async function list(root) {
  const [models, tenant] = await Promise.all([get('/api/v1/models'), get('/api/v1/tenant').catch(() => null)]);
  const usage = tenant && tenant.usage ? html`<p class="usage">Your tenant: ${bytes(tenant.usage.storageBytes)} stored${tenant.limits && tenant.limits.storageBytes ? html` of ${bytes(tenant.limits.storageBytes)}` : ''}
    · ${tenant.usage.jobsInFlight} job(s) in flight${tenant.limits && tenant.limits.jobsInFlight ? html` of ${tenant.limits.jobsInFlight}` : ''}</p>` : '';
  root.innerHTML = html`<h1>Models</h1>${usage}
    <section aria-labelledby="models-h"><h2 id="models-h">Registered models</h2>
    ${models.length ? html`<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Source</th>
      <th scope="col">Size</th><th scope="col">Files</th><th scope="col">Created</th></tr></thead><tbody>
      ${models.map(m => html`<tr><td><a href="#/models/${encodeURIComponent(m.name)}">${m.name}</a></td><td><span class="state">${m.state}</span></td>
        <td>${m.source}</td><td>${bytes(modelBytes(m))}</td><td>${(m.files || []).length}</td><td>${when(m.createdAt)}</td></tr>`)}
      </tbody></table></div>` : html`<p>No models yet: upload one below.</p>`}
    </section>
    <section aria-labelledby="upload-h" class="card"><h2 id="upload-h">Upload a Hugging Face folder</h2>
      <form id="upload">
        <label for="upload-name">Model name</label>
        <input id="upload-name" name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,127}" placeholder="my-model">
        <div id="drop" class="drop" tabindex="0" aria-describedby="drop-help">
          <p id="drop-help">Drop the model's files (config.json, *.safetensors, tokenizer files) or one .tar / .zip here, or choose them:</p>
          <label for="upload-files">Model files</label>
          <input id="upload-files" name="files" type="file" multiple>
          <label for="upload-folder">Model folder</label>
          <input id="upload-folder" name="folder" type="file" webkitdirectory multiple>
          <p id="chosen" aria-live="polite"></p>
        </div>
        <div class="progress-row" hidden><div id="upload-progress" class="bar" role="progressbar" aria-label="Upload progress" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><span></span></div><span id="upload-status"></span></div>
        <div id="upload-error"></div>
        <button type="submit">Upload</button>
      </form>
    </section>
    <section aria-labelledby="import-h" class="card"><h2 id="import-h">Import by reference</h2>
      <form id="import">
        <label for="import-name">Import as</label><input id="import-name" name="name" required>
        <label for="import-source">Source</label><input id="import-source" name="source" required placeholder="hf://org/name@revision or s3://bucket/prefix">
        <label for="import-token">Hub token (optional)</label><input id="import-token" name="token" type="password" autocomplete="off">
        <div id="import-error"></div>
        <button type="submit">Import</button>
      </form>
    </section>`.s;
  wireUpload(root);
  const imp = root.querySelector('#import');
  imp.addEventListener('submit', async e => {
    e.preventDefault();
    const err = root.querySelector('#import-error');
    clear(err);
    imp.querySelector('button').disabled = true;
    try {
      const m = await post('/api/v1/models/import', { name: imp.name.value, source: imp.source.value, token: imp.token.value || null });
      location.hash = `#/models/${encodeURIComponent(m.name)}`;
    } catch (ex) { showError(err, ex); } finally { imp.querySelector('button').disabled = false; }
  });
}

/** Files of a chosen folder keep their path inside it (the top folder's name is dropped). */
function relativePath(file) {
  const p = file.webkitRelativePath || file.relativePath || file.name;
  const i = p.indexOf('/');
  return i > 0 ? p.slice(i + 1) : p;
}

function wireUpload(root) {
  const form = root.querySelector('#upload'), drop = root.querySelector('#drop'), chosen = root.querySelector('#chosen');
  let dropped = null;
  const show = files => { chosen.textContent = files.length ? `${files.length} file(s), ${bytes(files.reduce((a, f) => a + f.size, 0))}: ${files.map(relativePath).join(', ')}` : ''; };
  const picked = () => dropped || [...form.files.files, ...form.folder.files];
  form.files.addEventListener('change', () => { dropped = null; show(picked()); });
  form.folder.addEventListener('change', () => { dropped = null; show(picked()); });
  drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async e => {
    e.preventDefault();
    drop.classList.remove('over');
    dropped = await droppedFiles(e.dataTransfer);
    show(dropped);
  });
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const err = root.querySelector('#upload-error');
    clear(err);
    const files = picked();
    if (!files.length) { showError(err, { problem: { title: 'Nothing to upload', detail: 'choose the model folder, its files, or one .tar / .zip' } }); return; }
    const data = new FormData();
    data.append('name', form.name.value);
    const archive = files.length === 1 && /\.(tar|zip)$/i.test(files[0].name);
    if (archive) data.append('archive', files[0], files[0].name);
    else files.forEach(f => data.append('files', f, relativePath(f)));
    const row = root.querySelector('.progress-row'), bar = root.querySelector('#upload-progress'), status = root.querySelector('#upload-status');
    row.hidden = false;
    form.querySelector('button[type=submit]').disabled = true;
    try {
      const model = await upload('/api/v1/models', data, (sent, total) => {
        const pct = Math.round(sent * 100 / total);
        bar.setAttribute('aria-valuenow', pct);
        bar.firstElementChild.style.width = pct + '%';
        status.textContent = pct < 100 ? `${bytes(sent)} of ${bytes(total)} sent` : 'stored, checking…';
      });
      status.textContent = `${model.name} is ${model.state}`;
      location.hash = `#/models/${encodeURIComponent(model.name)}`;
    } catch (ex) {
      showError(err, ex);
    } finally {
      form.querySelector('button[type=submit]').disabled = false;
    }
  });
}

/** Files of a drop: plain files, or the files of a dropped folder (read through the entries API). */
async function droppedFiles(dt) {
  const entries = [...dt.items].map(i => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.some(e => e.isDirectory)) return [...dt.files];
  const out = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const f = await new Promise((ok, ko) => entry.file(ok, ko));
      f.relativePath = prefix + f.name;
      out.push(f);
    } else {
      const reader = entry.createReader();
      for (let batch; (batch = await new Promise((ok, ko) => reader.readEntries(ok, ko))).length;)
        for (const child of batch) await walk(child, prefix + entry.name + '/');
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

/** Parameters of a Llama-shaped config.json, counted tensor by tensor. */
export function parameters(c) {
  const hidden = c.hidden_size, layers = c.num_hidden_layers, heads = c.num_attention_heads, kv = c.num_key_value_heads || heads;
  const headDim = c.head_dim || hidden / heads, ffn = c.intermediate_size, vocab = c.vocab_size;
  if (![hidden, layers, heads, ffn, vocab].every(Number.isFinite)) return null;
  const attn = hidden * heads * headDim * 2 + hidden * kv * headDim * 2;
  const bias = c.attention_bias ? heads * headDim + 2 * kv * headDim : 0;
  const perLayer = attn + bias + 3 * hidden * ffn + 2 * hidden;
  return vocab * hidden * (c.tie_word_embeddings ? 1 : 2) + layers * perLayer + hidden;
}

export async function modelConfig(name) {
  try { return await get(`/api/v1/models/${encodeURIComponent(name)}/download?path=config.json`); } catch { return null; }
}

export async function page(root, name) {
  const [m, config, artifacts] = await Promise.all([get(`/api/v1/models/${encodeURIComponent(name)}`), modelConfig(name),
    get(`/api/v1/artifacts?model=${encodeURIComponent(name)}`)]);
  const base = (m.metrics || {}).perplexity_base ?? artifacts.map(a => (a.metrics || {}).perplexity_base).find(v => v != null);
  const c = config || {};
  const params = config ? parameters(c) : null;
  root.innerHTML = html`<h1>${m.name}</h1>
    <p>State <span class="state">${m.state}</span> · source ${m.source} · created ${when(m.createdAt)}</p>
    <p class="actions"><a class="button" href="#/jobs/new?model=${encodeURIComponent(m.name)}">New job</a>
      <a href="#/artifacts?model=${encodeURIComponent(m.name)}">Artifacts (${artifacts.length})</a>
      <a href="#/compare?model=${encodeURIComponent(m.name)}">Compare</a>
      <a href="#/recommend?model=${encodeURIComponent(m.name)}">Recommend</a>
      <a href="#/jobs?model=${encodeURIComponent(m.name)}">Jobs</a></p>
    <section aria-labelledby="arch-h"><h2 id="arch-h">Architecture</h2>
    <table class="kv"><tbody>
      <tr><th scope="row">Architecture</th><td>${(c.architectures || [c.model_type || '—']).join(', ')}</td></tr>
      <tr><th scope="row">Parameters</th><td>${params ? int(params) : '—'}</td></tr>
      <tr><th scope="row">Layers</th><td>${c.num_hidden_layers ?? '—'}</td></tr>
      <tr><th scope="row">Heads / KV heads</th><td>${c.num_attention_heads ?? '—'} / ${c.num_key_value_heads ?? c.num_attention_heads ?? '—'}</td></tr>
      <tr><th scope="row">Hidden size</th><td>${c.hidden_size ?? '—'}</td></tr>
      <tr><th scope="row">Context</th><td>${c.max_position_embeddings ?? '—'}</td></tr>
      <tr><th scope="row">Vocabulary</th><td>${c.vocab_size ?? '—'}</td></tr>
      <tr><th scope="row">dtype</th><td>${c.torch_dtype ?? c.dtype ?? '—'}</td></tr>
      <tr><th scope="row">Size</th><td>${bytes(modelBytes(m))} (${int(modelBytes(m))} bytes)</td></tr>
      <tr><th scope="row">Base perplexity</th><td>${base != null ? num(base) : 'not measured yet (run a job with perplexity)'}</td></tr>
    </tbody></table></section>
    <section aria-labelledby="files-h"><h2 id="files-h">Files</h2>
    <div class="scroll"><table><thead><tr><th scope="col">Path</th><th scope="col">Size</th><th scope="col">sha256</th></tr></thead><tbody>
      ${(m.files || []).map(f => html`<tr><td>${f.path}</td><td>${bytes(f.size)}</td><td><code class="hash">${f.sha256}</code></td></tr>`)}
    </tbody></table></div></section>`.s;
}
