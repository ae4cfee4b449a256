// Immune fleet dashboard: polls the fleet host's JSON every 2 seconds and redraws when it changed. Every value from an event goes into
// the page as text (textContent, Text nodes, SVG <title> text), never as markup, with bidirectional controls shown as
// their code points: a message of "<script>" shows as those characters, and no message can reorder what is around it.
'use strict';
(() => {
  const REFRESH_MS = 2000;
  const WINDOW_MINUTES = 60;
  const MAX_INCIDENTS = 100;
  const MESSAGE_SHOWN = 280; // characters of a message shown in its row; the rest on demand
  const STATUS = {
    CRITICAL: { symbol: '\u2716', label: 'Critical', css: 'status-critical' },
    DEGRADED: { symbol: '\u25B2', label: 'Degraded', css: 'status-degraded' },
    HEALTHY: { symbol: '\u2714', label: 'Healthy', css: 'status-healthy' },
  };
  const SEVERITY_ORDER = ['info', 'warning', 'critical']; // stacked bottom to top
  const SVG = 'http://www.w3.org/2000/svg';
  const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
  const INVISIBLE_ONLY = /^[\s\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]*$/;
  const $ = id => document.getElementById(id);
  const number = n => Number(n).toLocaleString('en-US');
  let lastGood = null; // the last health answer received

  // Text from an event, safe to show: bidi controls made visible, blank or invisible-only text shown as "(empty)".
  function clean(value) {
    const text = String(value ?? '');
    if (INVISIBLE_ONLY.test(text)) return '(empty)';
    return text.replace(BIDI, c => '\u27E8U+' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') + '\u27E9');
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    node.append(...children.filter(c => c !== null && c !== undefined)); // strings become Text nodes
    return node;
  }

  function svg(tag, attributes, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    node.append(...children);
    return node;
  }

  // What a status shows: the window's status, raised by open incidents however old (a CRITICAL open for two hours is
  // still critical, though the window's events no longer count it).
  function shown(status, open, openCritical) {
    if (openCritical > 0 || status === 'CRITICAL') return 'CRITICAL';
    if (open > 0 || status === 'DEGRADED') return 'DEGRADED';
    return status;
  }

  function statusBadge(node, status) {
    const s = STATUS[status] || { symbol: '?', label: clean(status), css: 'status-unknown' };
    node.className = node.className.replace(/\bstatus(-\w+)?\b/g, '').trim() + ' status ' + s.css;
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

  // "2026-12-06 14:03:22 UTC": the same for everyone on call, whatever their time zone.
  const absolute = iso => new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const clock = iso => new Date(iso).toISOString().slice(11, 16);

  // A <time> with the absolute time and how long ago it was from `now`.
  function when(iso, now) {
    return el('time', { datetime: iso }, absolute(iso), el('span', { class: 'ago' }, ' (' + duration(now - Date.parse(iso)) + ' ago)'));
  }

  function renderLive(health, failure) {
    const live = !failure && health && health.live;
    document.body.dataset.live = String(Boolean(live));
    const banner = $('live');
    banner.hidden = live;
    if (live) return;
    const since = health && health.last_read_at;
    const parts = [since ? 'Not live since ' + absolute(since) + '. ' : 'Not live: no data read from the broker yet. '];
    if (failure) {
      parts.push('This page cannot reach the fleet host (' + failure + '); what it shows is the last it received. Retrying.');
    } else {
      parts.push('The fleet host cannot read its broker; what it shows is as of then.');
      const trouble = (health.feeds || []).find(f => f.last_error);
      if (trouble) parts.push(' ' + clean(trouble.name) + ': ' + clean(trouble.last_error).slice(0, 200));
    }
    banner.replaceChildren(el('span', { class: 'symbol', 'aria-hidden': 'true' }, '\u26A0'), ' ', parts.join(''));
  }

  function renderHealth(health) {
    const now = Date.parse(health.generated_at);
    statusBadge($('fleet-status'), shown(health.status, health.open_incidents, health.open_critical_incidents));
    $('window').textContent = number(health.window_minutes);
    const asOf = health.live || !health.last_read_at ? health.generated_at : health.last_read_at;
    $('updated').replaceChildren(absolute(asOf));
    $('updated').setAttribute('datetime', asOf);
    $('source-count').textContent = number(health.source_count);
    $('event-count').textContent = number(health.active_issues);
    const pager = health.pager;
    $('pager').hidden = !pager;
    if (pager) {
      $('pager').replaceChildren(pager.failing_since
        ? el('strong', { class: 'down' }, '\u26A0 Pager failing since ' + absolute(pager.failing_since) + ': pages wait and go when it answers. ' + clean(pager.last_problem || '').slice(0, 200))
        : 'Pager: ' + number(pager.sent) + ' sent' + (pager.refused ? ', ' + number(pager.refused) + ' refused' : ''));
    }

    const tiles = health.sources.map(source => {
      const status = shown(source.status, source.open_incidents, source.open_critical_incidents);
      const badge = el('p', { class: 'status' });
      statusBadge(badge, status);
      const tile = el('li', { class: 'tile', 'data-source': source.source },
        el('h3', null, clean(source.source)),
        badge,
        el('dl', null,
          el('dt', null, 'Open'), el('dd', { class: 'open' }, number(source.open_incidents)),
          el('dt', null, 'Open critical'), el('dd', { class: 'critical' }, number(source.open_critical_incidents)),
          el('dt', null, 'Events (' + health.window_minutes + 'm)'), el('dd', { class: 'events' }, number(source.active_issues)),
          el('dt', null, 'Instances'), el('dd', { class: 'instances' }, number(source.instances))));
      tile.classList.add((STATUS[status] || {}).css || 'status-unknown');
      return tile;
    });
    $('sources').replaceChildren(...tiles);
    const more = $('more-sources');
    more.hidden = false;
    more.textContent = tiles.length === 0
      ? 'No service has an open incident' + (health.source_count ? ' (' + number(health.source_count) + ' with events in the window).' : '.')
      : health.sources_omitted > 0
        ? 'and ' + number(health.sources_omitted) + ' more with events in the window, none worse than those above.'
        : '';
    more.hidden = more.textContent === '';
    return now;
  }

  function message(text) {
    const shown = clean(text);
    if (shown.length <= MESSAGE_SHOWN) return el('span', { class: 'text' }, shown);
    return el('details', { class: 'text' },
      el('summary', null, shown.slice(0, MESSAGE_SHOWN) + '\u2026 ', el('span', { class: 'where' }, 'show all ' + number(shown.length) + ' characters')),
      el('div', { class: 'full' }, shown));
  }

  function renderIncidents(incidents, health, now) {
    const rows = incidents.map(incident => {
      const severity = String(incident.severity).toLowerCase();
      const where = [incident.instance_id && 'instance ' + clean(incident.instance_id), 'event ' + incident.event_id].filter(Boolean).join(' \u00B7 ');
      const details = [incident.type, incident.module && 'module ' + clean(incident.module), incident.agent_id && 'agent ' + clean(incident.agent_id)].filter(Boolean).join(' \u00B7 ');
      return el('tr', { class: severity, 'data-key': incident.source + '/' + (incident.instance_id || '') + '/' + incident.event_id },
        el('td', { 'data-label': 'Severity' }, el('span', { class: 'severity ' + severity }, (severity === 'critical' ? '\u2716 ' : '\u25B2 ') + incident.severity)),
        el('td', { class: 'service', 'data-label': 'Service' }, clean(incident.source), el('span', { class: 'where' }, where)),
        el('td', { class: 'message', 'data-label': 'Message' }, message(incident.message), el('span', { class: 'where' }, details)),
        el('td', { 'data-label': 'Open since' }, when(incident.recorded_at, now)),
        el('td', { 'data-label': 'Last heard' }, when(incident.last_seen_at, now)),
        el('td', { 'data-label': 'Seen' }, incident.occurrences === 1 ? 'once' : number(incident.occurrences) + '\u00D7'));
    });
    $('incidents').tBodies[0].replaceChildren(...rows);
    $('incidents').hidden = rows.length === 0;
    $('no-incidents').hidden = rows.length > 0;
    const open = health.open_incidents;
    $('incident-count').textContent = open ? '(' + number(open) + (health.open_critical_incidents ? ', ' + number(health.open_critical_incidents) + ' critical' : '') + ')' : '';
    const notes = [];
    if (open > rows.length) notes.push('Showing the ' + number(rows.length) + ' most severe and recent of ' + number(open) + '.');
    if (health.incidents_evicted > 0) notes.push(number(health.incidents_evicted) + ' older incidents were let go of to stay within the host\u2019s capacity.');
    $('incident-note').textContent = notes.join(' ');
    $('incident-note').hidden = notes.length === 0;
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
      const group = svg('g', null, svg('title', null, `${clock(minute.start)} UTC: ${minute.critical} critical, ${minute.warning} warning, ${minute.info} info`));
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
        clock(minutes[i].start) + (anchor === 'end' ? ' UTC' : ''));
      chart.append(tick(0, 'start'), tick(minutes.length - 1, 'end'));
    }
    $('chart').replaceChildren(chart);
  }

  // The page's own folder, without any user name and password the address was opened with (fetch refuses those; the
  // browser sends the credentials it signed in with by itself).
  const base = location.origin + location.pathname.replace(/[^/]*$/, '');

  async function getText(path) {
    const response = await fetch(base + path, { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    return response.text();
  }

  let drawn = null; // the answers the page shows now, as received

  async function refresh() {
    try {
      const answers = await Promise.all([
        getText('api/immune/fleet/health?minutes=' + WINDOW_MINUTES),
        getText('api/immune/fleet/incidents?max=' + MAX_INCIDENTS),
        getText('api/immune/fleet/rate?minutes=' + WINDOW_MINUTES),
      ]);
      const [health, incidents, rate] = answers.map(text => JSON.parse(text));
      lastGood = health;
      const received = answers.join('\n');
      if (received !== drawn) {
        // Redrawn only when something changed: an unchanged fleet keeps what the reader selected or opened.
        const now = renderHealth(health);
        renderIncidents(incidents, health, now);
        renderRate(rate);
        drawn = received;
      }
      renderLive(health, null);
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (error) {
      renderLive(lastGood, error.message || String(error));
      document.body.dataset.failed = String(Number(document.body.dataset.failed || 0) + 1);
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
