// Immune fleet dashboard: polls the consumer's JSON endpoints every 2 seconds and redraws. Every value from an event
// goes into the page as text (textContent, Text nodes, SVG <title> text), never as markup: a message of "<script>"
// shows as those characters.
'use strict';
(() => {
  const REFRESH_MS = 2000;
  const WINDOW_MINUTES = 60;
  const STATUS = {
    CRITICAL: { symbol: '\u2716', label: 'Critical', css: 'status-critical' },
    DEGRADED: { symbol: '\u25B2', label: 'Degraded', css: 'status-degraded' },
    HEALTHY: { symbol: '\u2714', label: 'Healthy', css: 'status-healthy' },
  };
  const SEVERITY_ORDER = ['info', 'warning', 'critical']; // stacked bottom to top
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = id => document.getElementById(id);

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    node.append(...children); // strings become Text nodes
    return node;
  }

  function svg(tag, attributes, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    node.append(...children);
    return node;
  }

  function statusBadge(node, status) {
    const s = STATUS[status] || { symbol: '?', label: String(status), css: 'status-unknown' };
    node.className = node.className.replace(/\bstatus-\w+/g, '').trim() + ' status ' + s.css;
    node.replaceChildren(el('span', { class: 'symbol', 'aria-hidden': 'true' }, s.symbol), ' ', el('span', { class: 'label' }, s.label));
  }

  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm';
    const h = Math.floor(m / 60);
    if (h < 24) return h + 'h ' + (m % 60) + 'm';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }

  function renderHealth(health) {
    statusBadge($('fleet-status'), health.status);
    $('window').textContent = String(health.window_minutes);
    const tiles = health.sources.map(source => {
      const badge = el('p', { class: 'status' });
      statusBadge(badge, source.status);
      const tile = el('li', { class: 'tile', 'data-source': source.source },
        el('h3', null, source.source),
        badge,
        el('dl', null,
          el('dt', null, 'Active'), el('dd', { class: 'active' }, String(source.active_issues)),
          el('dt', null, 'Critical'), el('dd', { class: 'critical' }, String(source.critical_issues)),
          el('dt', null, 'Instances'), el('dd', { class: 'instances' }, String(source.instances))));
      tile.classList.add((STATUS[source.status] || {}).css || 'status-unknown');
      return tile;
    });
    $('sources').replaceChildren(...tiles);
    $('no-sources').hidden = tiles.length > 0;
  }

  function renderIncidents(incidents, now) {
    const rows = incidents.map(incident => {
      const severity = incident.severity.toLowerCase();
      const where = [incident.instance_id && 'instance ' + incident.instance_id, 'event ' + incident.event_id].filter(Boolean).join(' \u00B7 ');
      const details = [incident.type, incident.module && 'module ' + incident.module, incident.agent_id && 'agent ' + incident.agent_id].filter(Boolean).join(' \u00B7 ');
      const opened = Date.parse(incident.recorded_at);
      return el('tr', { class: severity, 'data-key': incident.source + '/' + (incident.instance_id || '') + '/' + incident.event_id },
        el('td', { 'data-label': 'Severity' }, el('span', { class: 'severity ' + severity }, (severity === 'critical' ? '\u2716 ' : '\u25B2 ') + incident.severity)),
        el('td', { 'data-label': 'Service' }, incident.source, el('span', { class: 'where' }, where)),
        el('td', { class: 'message', 'data-label': 'Message' }, incident.message, el('span', { class: 'where' }, details)),
        el('td', { 'data-label': 'Open for' }, el('time', { datetime: incident.recorded_at, title: incident.recorded_at }, duration(now - opened))),
        el('td', { 'data-label': 'Seen' }, incident.occurrences === 1 ? 'once' : incident.occurrences + '\u00D7'));
    });
    $('incidents').tBodies[0].replaceChildren(...rows);
    $('incidents').hidden = rows.length === 0;
    $('no-incidents').hidden = rows.length > 0;
    $('incident-count').textContent = rows.length ? '(' + rows.length + ')' : '';
  }

  function renderRate(minutes) {
    const width = 600, height = 180, left = 28, bottom = 18, top = 6;
    const max = Math.max(1, ...minutes.map(m => m.info + m.warning + m.critical));
    const slot = (width - left) / Math.max(1, minutes.length);
    const y = value => top + (height - top - bottom) * (1 - value / max);
    const total = minutes.reduce((sum, m) => sum + m.info + m.warning + m.critical, 0);
    const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', preserveAspectRatio: 'none',
      'aria-label': `${total} events in the last ${minutes.length} minutes; at most ${max} in one minute` });
    chart.append(
      svg('line', { class: 'grid', x1: left, x2: width, y1: y(0), y2: y(0) }),
      svg('line', { class: 'grid', x1: left, x2: width, y1: y(max), y2: y(max) }),
      svg('text', { class: 'axis', x: 0, y: y(max) + 4 }, String(max)),
      svg('text', { class: 'axis', x: 0, y: y(0) }, '0'));
    minutes.forEach((minute, i) => {
      let base = 0;
      const label = `${new Date(minute.start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}: ` +
        `${minute.critical} critical, ${minute.warning} warning, ${minute.info} info`;
      const group = svg('g', null, svg('title', null, label));
      for (const severity of SEVERITY_ORDER) {
        const count = minute[severity];
        if (count > 0) {
          group.append(svg('rect', { class: 'bar ' + severity, x: left + i * slot + 1, width: Math.max(1, slot - 2), y: y(base + count), height: y(base) - y(base + count) }));
          base += count;
        }
      }
      chart.append(group);
    });
    if (minutes.length > 0) {
      const tick = (i, anchor) => svg('text', { class: 'axis', x: left + i * slot + (anchor === 'end' ? slot : 0), y: height - 4, 'text-anchor': anchor },
        new Date(minutes[i].start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
      chart.append(tick(0, 'start'), tick(minutes.length - 1, 'end'));
    }
    $('chart').replaceChildren(chart);
  }

  async function getJson(path) {
    const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!response.ok) throw new Error(path + ': HTTP ' + response.status);
    return response.json();
  }

  async function refresh() {
    const query = '?minutes=' + WINDOW_MINUTES;
    try {
      const [health, incidents, rate] = await Promise.all([
        getJson('api/immune/fleet/health' + query),
        getJson('api/immune/fleet/incidents' + query + '&max=100'),
        getJson('api/immune/fleet/rate' + query),
      ]);
      const now = Date.parse(health.generated_at);
      renderHealth(health);
      renderIncidents(incidents, now);
      renderRate(rate);
      $('updated').textContent = new Date(now).toLocaleTimeString();
      $('updated').setAttribute('datetime', health.generated_at);
      $('connection').textContent = '';
      $('connection').classList.remove('down');
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (error) {
      $('connection').textContent = '\u26A0 not updating: ' + error.message + ' (retrying)';
      $('connection').classList.add('down');
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
