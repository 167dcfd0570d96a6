// The public REST API as the browser uses it: the session cookie authenticates, and every unsafe request
// repeats the XSRF-TOKEN cookie in the X-XSRF-TOKEN header (the gateway refuses it otherwise).

/** An API error: the problem+json document (title, detail, errors) and the HTTP status. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(`${problem.title || 'Error'}: ${problem.detail || ''}`);
    this.status = status;
    this.problem = problem;
  }

  /** Field errors as [{field, message}], accepting both {field, message} objects and "field: message" strings. */
  get fieldErrors() {
    return (this.problem.errors || []).map(e => {
      if (typeof e === 'object' && e) return { field: e.field || '', message: e.message || String(e) };
      const s = String(e), i = s.indexOf(': ');
      return i > 0 ? { field: s.slice(0, i), message: s.slice(i + 2) } : { field: '', message: s };
    });
  }
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)XSRF-TOKEN=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : '';
}

function headers(method, extra = {}) {
  const h = { Accept: 'application/json, application/problem+json', ...extra };
  if (!['GET', 'HEAD'].includes(method)) h['X-XSRF-TOKEN'] = csrfToken();
  return h;
}

async function problemOf(response) {
  const text = await response.text();
  try {
    const p = JSON.parse(text);
    if (p && typeof p === 'object') return p;
  } catch { /* not JSON: fall through */ }
  return { title: response.statusText || `HTTP ${response.status}`, status: response.status, detail: text.slice(0, 300) };
}

/** fetch + JSON; throws ApiError with the problem document on any non-2xx answer. */
export async function api(method, path, body) {
  const init = { method, headers: headers(method), credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (!r.ok) throw new ApiError(r.status, await problemOf(r));
  if (r.status === 204) return null;
  const type = r.headers.get('Content-Type') || '';
  return type.includes('json') ? r.json() : r.text();
}

export const get = path => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const del = path => api('DELETE', path);

/**
 * Multipart upload with progress (fetch cannot report upload progress): onProgress(sentBytes, totalBytes).
 * Resolves with the JSON answer, rejects with ApiError.
 */
export function upload(path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('X-XSRF-TOKEN', csrfToken());
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    xhr.upload.onprogress = e => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new ApiError(0, { title: 'Network error', detail: 'the upload did not reach the server' }));
    xhr.onload = () => {
      let body;
      try { body = JSON.parse(xhr.responseText); } catch { body = { title: xhr.statusText, detail: xhr.responseText.slice(0, 300) }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    };
    xhr.send(formData);
  });
}
