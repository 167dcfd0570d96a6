// Small DOM helpers shared by the pages.

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = v => String(v ?? '').replace(/[&<>"']/g, c => ESC[c]);

/** Marks a string as already-safe HTML for html``. */
export class Raw { constructor(s) { this.s = s; } toString() { return this.s; } }
export const raw = s => new Raw(s);

/** Tagged template: every interpolation is escaped unless it is Raw (or an array of Raw). */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => {
    out += Array.isArray(v) ? v.map(x => x instanceof Raw ? x.s : esc(x)).join('') : v instanceof Raw ? v.s : esc(v);
    out += strings[i + 1];
  });
  return raw(out);
}

export function bytes(n) {
  if (n == null || isNaN(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0, v = Number(n);
  while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

export const num = (v, digits = 4) => v == null || isNaN(v) ? '—' : Number(v).toFixed(digits);
export const int = v => v == null || isNaN(v) ? '—' : Math.round(v).toLocaleString('en-US');
export const seconds = v => v == null || isNaN(v) ? '—' : v === 0 ? '0 s' : v < 0.01 ? `${Number(v).toExponential(2)} s` : v < 120 ? `${Number(v).toFixed(2)} s` : `${Math.floor(v / 60)} min ${Math.round(v % 60)} s`;
export const when = t => t ? new Date(t).toLocaleString() : '—';

/** Shows an API error (problem+json title and detail, and its field errors) in the given region. */
export function showError(region, error) {
  const p = error.problem || { title: 'Error', detail: String(error.message || error) };
  const list = error.fieldErrors ? error.fieldErrors : [];
  region.innerHTML = html`<div class="problem" role="alert"><strong>${p.title || 'Error'}</strong>${p.status ? ` (${p.status})` : ''}: ${p.detail || ''}
    ${list.length ? html`<ul>${list.map(e => html`<li>${e.field ? e.field + ': ' : ''}${e.message}</li>`)}</ul>` : ''}</div>`;
}

export function clear(region) { region.innerHTML = ''; }

/** "groupSize" → "Group size". */
export function words(name) {
  const s = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[-_]/g, ' ').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Query parameters of the current hash route. */
export function query() {
  const h = location.hash, i = h.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : h.slice(i + 1));
}

/** A modal confirmation (native <dialog>: focus moves in, Escape cancels). Resolves true when confirmed. */
export function confirmDialog(message, confirmLabel, cancelLabel = 'Keep') {
  return new Promise(resolve => {
    const d = document.createElement('dialog');
    d.setAttribute('aria-labelledby', 'confirm-text');
    d.innerHTML = html`<p id="confirm-text">${message}</p><div class="actions">
      <button type="button" value="no">${cancelLabel}</button> <button type="button" value="yes" class="danger">${confirmLabel}</button></div>`.s;
    d.addEventListener('click', e => { if (e.target.value) d.close(e.target.value); });
    d.addEventListener('close', () => { d.remove(); resolve(d.returnValue === 'yes'); });
    document.body.append(d);
    d.showModal();
  });
}

let leaving = [];
/** A page registers what must stop when the user navigates away (an EventSource, a timer). */
export function onLeave(fn) { leaving.push(fn); }
export function leavePage() { leaving.forEach(fn => fn()); leaving = []; }
