// Charts drawn as SVG by hand: three small chart types are less code than a chart library's configuration,
// need no download, and SVG keeps each mark in the DOM (a title per point for pointer and screen-reader users).
// Every chart is a <figure> with an accessible name and the same numbers as a table behind "Data table".

const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#1f6feb', '#d9480f', '#2f9e44', '#9c36b5', '#e67700', '#0c8599', '#c2255c', '#5c940d'];

function el(name, attrs = {}, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function niceTicks(min, max, count = 5) {
  if (!(max > min)) { max = min + 1; }
  const step0 = (max - min) / count, mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= step0);
  // from the step at or below min to the step at or above max, so that every value lies inside the axis
  const ticks = [];
  for (let t = Math.floor(min / step) * step; t < max + step * 0.999; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

function figure(name, svg, columns, rows) {
  const fig = document.createElement('figure');
  fig.className = 'chart';
  const cap = document.createElement('figcaption');
  cap.textContent = name;
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', name);
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = 'Data table';
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr></tr></thead><tbody></tbody>';
  for (const c of columns) table.tHead.rows[0].appendChild(Object.assign(document.createElement('th'), { scope: 'col', textContent: c }));
  for (const r of rows) {
    const tr = table.tBodies[0].insertRow();
    for (const v of r) tr.insertCell().textContent = v;
  }
  details.append(summary, table);
  fig.append(cap, svg, details);
  return fig;
}

/** Points that no other point beats on both axes (smaller x and smaller y are better), sorted by x. */
export function paretoFront(points) {
  return points.filter(p => !points.some(q => q !== p && q.x <= p.x && q.y <= p.y && (q.x < p.x || q.y < p.y)))
    .sort((a, b) => a.x - b.x);
}

/**
 * Scatter of {label, x, y, kind?} with the Pareto front as a line; kind 'reference' (the base model) is drawn
 * hollow and left out of the front.
 */
export function scatter({ name, xLabel, yLabel, points, format = v => v }) {
  const W = 640, H = 360, L = 64, R = 16, T = 16, B = 48;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'scatter' });
  const xs = points.map(p => p.x), ys = points.map(p => p.y);
  const xPad = (Math.max(...xs) - Math.min(...xs)) * 0.1 || Math.max(...xs) * 0.1 || 1;
  const yPad = (Math.max(...ys) - Math.min(...ys)) * 0.1 || Math.max(...ys) * 0.01 || 1;
  const xt = niceTicks(Math.max(0, Math.min(...xs) - xPad), Math.max(...xs) + xPad);
  const yt = niceTicks(Math.min(...ys) - yPad, Math.max(...ys) + yPad);
  const x0 = xt[0], x1 = xt[xt.length - 1], y0 = yt[0], y1 = yt[yt.length - 1];
  const X = v => L + (v - x0) / (x1 - x0 || 1) * (W - L - R), Y = v => H - B - (v - y0) / (y1 - y0 || 1) * (H - T - B);
  axes(svg, W, H, L, R, T, B, xt.map(t => [X(t), format(t)]), yt.map(t => [Y(t), +t.toPrecision(6)]), xLabel, yLabel);
  const front = paretoFront(points.filter(p => p.kind !== 'reference'));
  if (front.length > 1)
    svg.append(el('polyline', { class: 'pareto', points: front.map(p => `${X(p.x)},${Y(p.y)}`).join(' ') }));
  points.forEach((p, i) => {
    const onFront = front.includes(p);
    const g = el('g', { class: p.kind === 'reference' ? 'reference' : 'point' + (onFront ? ' on-front' : '') + (p.kind === 'recommended' ? ' recommended' : '') });
    const c = el('circle', { cx: X(p.x), cy: Y(p.y), r: p.kind === 'recommended' ? 10 : onFront ? 7 : 5, fill: p.kind === 'reference' ? 'none' : COLORS[i % COLORS.length] });
    c.append(el('title', {}, `${p.label}: ${format(p.x)}, ${yLabel} ${p.y.toFixed(4)}${onFront ? ' (Pareto front)' : ''}`));
    const right = X(p.x) > W * 0.7; // labels of points near the right edge go to their left
    g.append(c, el('text', { x: X(p.x) + (right ? -9 : 9), y: Y(p.y) - 8, 'text-anchor': right ? 'end' : 'start', class: 'point-label' }, p.label));
    svg.append(g);
  });
  return figure(name, svg, ['Variant', xLabel, yLabel, 'Pareto front'],
    points.map(p => [p.label, format(p.x), p.y.toFixed(4), p.kind === 'reference' ? 'reference' : front.includes(p) ? 'yes' : 'no']));
}

function axes(svg, W, H, L, R, T, B, xTicks, yTicks, xLabel, yLabel) {
  svg.append(el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }), el('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
  for (const [x, label] of xTicks) svg.append(el('text', { x, y: H - B + 16, 'text-anchor': 'middle', class: 'tick' }, label));
  for (const [y, label] of yTicks) {
    svg.append(el('line', { x1: L, y1: y, x2: W - R, y2: y, class: 'grid' }));
    svg.append(el('text', { x: L - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' }, label));
  }
  if (xLabel) svg.append(el('text', { x: (L + W - R) / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis-label' }, xLabel));
  if (yLabel) svg.append(el('text', { x: 14, y: (T + H - B) / 2, transform: `rotate(-90 14 ${(T + H - B) / 2})`, 'text-anchor': 'middle', class: 'axis-label' }, yLabel));
}

/** Grouped bars: categories (e.g. GPUs) × series (e.g. artifacts), values[series][category]. */
export function groupedBars({ name, categories, series, values, valueLabel, format = v => v }) {
  const W = 640, H = 320, L = 72, R = 16, T = 16, B = 64;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'bars' });
  const max = Math.max(1, ...values.flat().filter(v => v != null));
  const yt = niceTicks(0, max);
  const top = yt[yt.length - 1];
  const Y = v => H - B - v / top * (H - T - B);
  const band = (W - L - R) / Math.max(1, categories.length), bw = band * 0.8 / Math.max(1, series.length);
  axes(svg, W, H, L, R, T, B, categories.map((c, i) => [L + band * (i + 0.5), c]), yt.map(t => [Y(t), format(t)]), '', valueLabel);
  series.forEach((s, si) => categories.forEach((c, ci) => {
    const v = values[si][ci];
    if (v == null) return;
    const r = el('rect', { x: L + band * ci + band * 0.1 + bw * si, y: Y(v), width: Math.max(1, bw - 2), height: H - B - Y(v), fill: COLORS[si % COLORS.length], class: 'bar-mark' });
    r.append(el('title', {}, `${s} on ${c}: ${format(v)}`));
    svg.append(r);
  }));
  legend(svg, series, L, H - 18);
  return figure(name, svg, [valueLabel, ...categories], series.map((s, si) => [s, ...categories.map((c, ci) => values[si][ci] == null ? '—' : format(values[si][ci]))]));
}

/** One stacked bar per category: parts[category] = [{label, value}] in the same order for every category. */
export function stackedBars({ name, categories, partLabels, parts, total, format = v => v }) {
  const W = 640, H = 320, L = 80, R = 16, T = 16, B = 64;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'bars' });
  const max = Math.max(1, ...categories.map((c, i) => Math.max(total ? total[i] : 0, parts[i].reduce((a, b) => a + b, 0))));
  const yt = niceTicks(0, max);
  const top = yt[yt.length - 1];
  const Y = v => H - B - v / top * (H - T - B);
  const band = (W - L - R) / Math.max(1, categories.length);
  axes(svg, W, H, L, R, T, B, categories.map((c, i) => [L + band * (i + 0.5), c]), yt.map(t => [Y(t), format(t)]), '', 'bytes');
  categories.forEach((c, ci) => {
    let acc = 0;
    parts[ci].forEach((v, pi) => {
      const r = el('rect', { x: L + band * ci + band * 0.2, y: Y(acc + v), width: band * 0.6, height: Math.max(0, Y(acc) - Y(acc + v)), fill: COLORS[pi % COLORS.length], class: 'bar-mark' });
      r.append(el('title', {}, `${c} ${partLabels[pi]}: ${format(v)}`));
      svg.append(r);
      acc += v;
    });
    if (total) svg.append(el('line', { x1: L + band * ci + band * 0.1, x2: L + band * ci + band * 0.9, y1: Y(total[ci]), y2: Y(total[ci]), class: 'limit' }));
  });
  legend(svg, partLabels, L, H - 18);
  return figure(name, svg, ['GPU', ...partLabels, ...(total ? ['Memory'] : [])],
    categories.map((c, ci) => [c, ...parts[ci].map(format), ...(total ? [format(total[ci])] : [])]));
}

function legend(svg, labels, x, y) {
  let dx = x;
  labels.forEach((s, i) => {
    svg.append(el('rect', { x: dx, y: y - 9, width: 10, height: 10, fill: COLORS[i % COLORS.length] }));
    const t = el('text', { x: dx + 14, y, class: 'legend' }, s);
    svg.append(t);
    dx += 24 + s.length * 6.5;
  });
}
