// Recommend: "which quantization should we ship on this GPU?" — the request form (POST /api/v1/recommendations) and the
// answer page (GET /api/v1/recommendations/{id}, polled until the job ends): the Pareto chart with the recommended point,
// the table of measured candidates, the pruned ones with why, and the chosen artifact's download.
import { get, post, ApiError } from './api.js';
import { html, bytes, num, int, seconds, showError, clear, query, onLeave } from './util.js';
import { scatter } from './charts.js';

/** The candidates the form offers (recipes as the jobs API takes them); the gateway's default set. */
const CANDIDATES = [
  ['gguf Q3_K_M', { method: 'gguf', fileType: 'Q3_K_M' }], ['gguf Q4_K_M', { method: 'gguf', fileType: 'Q4_K_M' }],
  ['gguf Q5_K_M', { method: 'gguf', fileType: 'Q5_K_M' }], ['gguf Q6_K', { method: 'gguf', fileType: 'Q6_K' }],
  ['gguf Q8_0', { method: 'gguf', fileType: 'Q8_0' }], ['gguf F16', { method: 'gguf', fileType: 'F16' }],
  ['GPTQ 4-bit', { method: 'gptq', bits: 4 }], ['AWQ 4-bit', { method: 'awq', bits: 4 }], ['NF4', { method: 'nf4' }], ['LLM.int8', { method: 'llm-int8' }],
];
const BUDGETS = [['maxKld', 'Max KL divergence', 0.01], ['maxDeltaPpl', 'Max Δ perplexity', 0.1], ['minSameTopP', 'Min same top token', 0.95]];

const field = (id, label, input) => html`<div class="field"><label for="${id}">${label}</label>${input}<span class="field-error" id="${id}-error" aria-live="polite"></span></div>`;

export async function form(root) {
  const [models, gpus] = await Promise.all([get('/api/v1/models'), get('/api/v1/gpus')]);
  const chosen = query().get('model') || (models[0] && models[0].name) || '';
  root.innerHTML = html`<h1>Recommend a quantization</h1>
    <p>Candidates that cannot hold the workload on any chosen GPU are pruned with the capacity model before anything runs; the rest are
       quantized and measured as one job, and the answer is the Pareto front of size and quality with a recommendation.</p>
    <form id="recommend" class="card" novalidate>
      ${field('r-modelId', 'Model', html`<select id="r-modelId">${models.map(m => html`<option ${m.name === chosen ? 'selected' : ''}>${m.name}</option>`)}</select>`)}
      <fieldset><legend>GPUs (count = tensor parallel)</legend><div class="gpus" role="group" aria-label="GPUs">
        ${gpus.map((g, i) => html`<span class="check"><input type="checkbox" id="rgpu-${i}" value="${g.name}" ${['L4', 'T4'].includes(g.name) ? 'checked' : ''}>
          <label for="rgpu-${i}">${g.name}</label> <input type="number" id="rgpu-${i}-count" min="1" max="64" value="1" aria-label="${g.name} count" class="count"></span>`)}
        </div><span class="field-error" id="r-gpus-error" aria-live="polite"></span></fieldset>
      ${field('r-ctx', 'Context length', html`<input id="r-ctx" type="number" min="1" value="512">`)}
      <fieldset><legend>Workload</legend>
        <span class="check"><input type="radio" name="workload" id="r-w-conc" value="concurrency" checked><label for="r-w-conc">Concurrent sequences</label></span>
        <span class="check"><input type="radio" name="workload" id="r-w-rate" value="rate"><label for="r-w-rate">Request rate</label></span>
        ${field('r-concurrency', 'Sequences', html`<input id="r-concurrency" type="number" min="1" value="16">`)}
        ${field('r-rate', 'Requests per second', html`<input id="r-rate" type="number" min="0" step="any" value="10">`)}
        ${field('r-promptLen', 'Prompt lengths', html`<input id="r-promptLen" value="fixed:256">`)}
        ${field('r-outputLen', 'Output lengths', html`<input id="r-outputLen" value="fixed:128">`)}
        <span class="field-error" id="r-workload-error" aria-live="polite"></span></fieldset>
      <fieldset><legend>Quality budget</legend>
        ${field('r-budget', 'Measure', html`<select id="r-budget">${BUDGETS.map(([k, label]) => html`<option value="${k}">${label}</option>`)}</select>`)}
        ${field('r-budget-value', 'Budget', html`<input id="r-budget-value" type="number" step="any" value="${BUDGETS[0][2]}">`)}
        <span class="field-error" id="r-quality-error" aria-live="polite"></span></fieldset>
      <fieldset><legend>Candidates</legend><div class="candidates" role="group" aria-label="Candidates">
        ${CANDIDATES.map(([label], i) => html`<span class="check"><input type="checkbox" id="rc-${i}" value="${i}" checked><label for="rc-${i}">${label}</label></span>`)}
        </div><span class="field-error" id="r-candidates-error" aria-live="polite"></span></fieldset>
      <fieldset><legend>Evaluation</legend>
        ${field('r-eval-text', 'Evaluation text', html`<input id="r-eval-text" value="demo-stories">`)}
        ${field('r-eval-ctx', 'Evaluation context', html`<input id="r-eval-ctx" type="number" value="128">`)}
        ${field('r-eval-chunks', 'Chunks (0 = all)', html`<input id="r-eval-chunks" type="number" value="4">`)}</fieldset>
      <div id="recommend-error"></div>
      <button type="submit">Recommend</button>
    </form>`.s;
  const $ = s => root.querySelector(s);
  $('#r-budget').addEventListener('change', () => { $('#r-budget-value').value = BUDGETS.find(b => b[0] === $('#r-budget').value)[2]; });
  $('#recommend').addEventListener('submit', async e => {
    e.preventDefault();
    root.querySelectorAll('.field-error').forEach(x => { x.textContent = ''; });
    clear($('#recommend-error'));
    const gpuChoice = gpus.map((g, i) => [g, i]).filter(([, i]) => $(`#rgpu-${i}`).checked)
      .map(([g, i]) => ({ name: g.name, count: Number($(`#rgpu-${i}-count`).value) }));
    const rate = root.querySelector('input[name=workload]:checked').value === 'rate';
    const body = {
      modelId: $('#r-modelId').value, gpus: gpuChoice, ctx: Number($('#r-ctx').value),
      workload: rate ? { requestsPerSecond: Number($('#r-rate').value), promptLen: $('#r-promptLen').value, outputLen: $('#r-outputLen').value }
        : { concurrency: Number($('#r-concurrency').value) },
      quality: { [$('#r-budget').value]: Number($('#r-budget-value').value) },
      candidates: CANDIDATES.filter((c, i) => $(`#rc-${i}`).checked).map(([, recipe]) => recipe),
      eval: { text: $('#r-eval-text').value, ctx: Number($('#r-eval-ctx').value), chunks: Number($('#r-eval-chunks').value) },
    };
    try {
      const accepted = await post('/api/v1/recommendations', body);
      location.hash = `#/recommendations/${encodeURIComponent(accepted.jobId)}?submitted`;
    } catch (err) {
      showError($('#recommend-error'), err);
      for (const fe of err.fieldErrors || []) { // each message also next to its field
        const key = fe.field.replace(/\[\d+\].*$/, '').replace(/\..*$/, '');
        const target = $(`#r-${key}-error`) || (key === 'requestsPerSecond' ? $('#r-workload-error') : null);
        if (target) target.textContent = `${fe.field}: ${fe.message}`;
      }
    }
  });
}

export async function page(root, id) {
  let timer = null;
  onLeave(() => clearTimeout(timer));
  // right after a submit the job may not be recorded yet (202 comes once Kafka has it): asked for again for a minute
  const fresh = query().has('submitted') ? Date.now() + 60_000 : 0;
  const render = async () => {
    let r;
    for (let wait = 100; !r; wait = Math.min(2000, wait * 2)) {
      try {
        r = await get(`/api/v1/recommendations/${encodeURIComponent(id)}`);
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404 && Date.now() < fresh)) throw e;
        root.innerHTML = html`<h1>Recommendation ${id}</h1><p role="status">Submitted; waiting for the job service to plan it…</p>`.s;
        await new Promise(done => setTimeout(done, wait));
      }
    }
    if (!root.isConnected) return;
    draw(root, r, r.recommendedArtifactId ? await get(`/api/v1/artifacts/${encodeURIComponent(r.recommendedArtifactId)}`) : null);
    if (!['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.state)) timer = setTimeout(() => render().catch(e => showError(root, e)), 1000);
  };
  await render();
}

function draw(root, r, chosen) {
  const measured = r.candidates.filter(c => c.state === 'MEASURED');
  const gpuNames = measured.length ? measured[0].fits.map(f => f.gpu) : [];
  root.innerHTML = html`<h1>Recommendation for ${r.model}</h1>
    <p>Job <a href="#/jobs/${encodeURIComponent(r.jobId)}">${r.jobId}</a> · state <span class="state" id="rec-state">${r.state}</span>
      · ${r.workload} · ${r.metric} ≤ ${num(r.maxLoss, 5)} · GPUs ${r.gpus.map(g => g.count > 1 ? `${g.name}×${g.count}` : g.name).join(', ')}
      ${r.wallSeconds != null ? html` · took ${seconds(r.wallSeconds)}` : ''}</p>
    ${r.error ? html`<div class="problem" role="alert">${r.error}</div>` : ''}
    ${r.reasons ? html`<section aria-labelledby="answer-h"><h2 id="answer-h">Answer</h2>
      <p id="recommended"><strong>${r.recommended ? `Recommended: ${r.recommended}` : 'No recommendation'}</strong></p>
      <p id="reasons">${r.reasons}</p>
      ${chosen ? html`<p>${chosen.files.map(f => html`<a class="button" href="/api/v1/artifacts/${encodeURIComponent(chosen.id)}/download?path=${encodeURIComponent(f.path)}" download
          id="download-chosen">Download ${f.path}</a> `)} <a href="#/artifacts/${encodeURIComponent(chosen.id)}">artifact page</a></p>` : ''}</section>` : ''}
    <div id="pareto"></div>
    <section aria-labelledby="cand-h"><h2 id="cand-h">Candidates</h2><div class="scroll"><table id="candidates">
      <thead><tr><th scope="col">Candidate</th><th scope="col">State</th><th scope="col">Size</th><th scope="col">${r.metric}</th>
        <th scope="col">KL divergence</th><th scope="col">Same top token</th><th scope="col">Within budget</th><th scope="col">Pareto front</th>
        ${gpuNames.map(g => html`<th scope="col">${g}: sequences / tok/s / $ per M tokens</th>`)}</tr></thead><tbody>
      ${r.candidates.map(c => html`<tr data-candidate="${c.label}"${c.label === r.recommended ? html` class="recommended"` : ''}><th scope="row">${c.label}</th>
        <td>${c.state}${c.error ? html`: ${c.error}` : ''}</td><td>${bytes(c.bytes)}</td><td>${num(c.loss, 5)}</td><td>${num(c.kldMean, 5)}</td>
        <td>${c.sameTopP != null ? (c.sameTopP * 100).toFixed(2) + ' %' : '—'}</td><td>${c.meetsQuality == null ? '—' : c.meetsQuality ? 'yes' : 'no'}</td>
        <td>${c.onFront == null ? '—' : c.onFront ? 'yes' : 'no'}</td>
        ${(c.fits || []).map(f => html`<td>${int(f.maxSequences)} / ${int(f.decodeTokensPerSecond)} / ${f.usdPerMillionTokens != null ? '$' + num(f.usdPerMillionTokens, 4) : '—'}${f.holds ? '' : ' (does not hold)'}</td>`)}</tr>`)}
      ${r.pruned.map(p => html`<tr data-candidate="${p.candidate}"><th scope="row">${p.candidate}</th><td colspan="${7 + gpuNames.length}">pruned, not quantized: ${p.reason}</td></tr>`)}
      </tbody></table></div></section>`.s;
  if (measured.length) {
    const points = measured.map(c => ({ label: c.label === r.recommended ? `★ ${c.label} (recommended)` : c.label, x: c.bytes, y: c.loss,
      kind: c.label === r.recommended ? 'recommended' : undefined }));
    root.querySelector('#pareto').append(scatter({ name: `Size vs ${r.metric} of the measured candidates (Pareto front marked, recommended starred)`,
      xLabel: 'Size', yLabel: r.metric, points, format: bytes }));
  }
}
