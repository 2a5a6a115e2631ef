/*
 * mail-lab Message path page: the player. Steps through the event list of
 * the message (first, back, play/pause, forward, last; arrow keys and the
 * space bar too), shows the details of the current step, moves an envelope
 * along the topology drawing from the step's node to the next, and hides
 * the kinds of steps the filter leaves out. Live: the list is reloaded when
 * an event of this message arrives (its Message-ID, one of its queue ids,
 * one of its mailboxes); on /path/latest a new message queued anywhere in
 * the lab becomes the message shown. All text comes from the server.
 */
(function () {
  'use strict';

  var page = document.querySelector('.path-page');
  if (!page) return;
  var lab = page.getAttribute('data-lab');
  var follow = page.getAttribute('data-follow') === 'latest';
  var currentId = page.getAttribute('data-id') || '';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var LEG_MS = 650;
  var PLAY_MS = 1700;
  var CATCHUP_MS = 900;

  var state = { key: null, playing: false, timer: null, hidden: {}, atEnd: true };
  var anim = null;
  var reloadTimer = null;
  var drawingTimer = null;
  var keysBefore = null;

  function body() { return document.getElementById('path-body'); }
  function rows() {
    var all = body().querySelectorAll('tr.step');
    var out = [];
    for (var i = 0; i < all.length; i++) if (!state.hidden[all[i].getAttribute('data-category')]) out.push(all[i]);
    return out;
  }
  function indexOfKey(list, key) {
    for (var i = 0; i < list.length; i++) if (list[i].getAttribute('data-key') === key) return i;
    return -1;
  }

  // --- the drawing and the envelope ---------------------------------------

  function svg() { return document.querySelector('#path-drawing svg'); }

  function envelope() {
    var s = svg();
    if (!s) return null;
    var env = s.querySelector('g.envelope');
    if (env) return env;
    env = document.createElementNS(SVGNS, 'g');
    env.setAttribute('class', 'envelope');
    env.setAttribute('data-envelope', '');
    var r = document.createElementNS(SVGNS, 'rect');
    r.setAttribute('x', '-36'); r.setAttribute('y', '-24'); r.setAttribute('width', '72'); r.setAttribute('height', '48'); r.setAttribute('rx', '5');
    var p = document.createElementNS(SVGNS, 'path');
    p.setAttribute('d', 'M -36 -24 L 0 6 L 36 -24');
    var mark = document.createElementNS(SVGNS, 'text');
    mark.setAttribute('class', 'env-mark'); mark.setAttribute('x', '40'); mark.setAttribute('y', '-16');
    env.appendChild(r); env.appendChild(p); env.appendChild(mark);
    env.setAttribute('visibility', 'hidden');
    s.appendChild(env);
    return env;
  }

  function center(node) {
    var s = svg();
    var g = s && s.querySelector('[data-node="' + (window.CSS && CSS.escape ? CSS.escape(node) : node) + '"]');
    var r = g && g.querySelector('rect');
    if (!r) return null;
    var x = Number(r.getAttribute('x')), y = Number(r.getAttribute('y'));
    return { x: x + Number(r.getAttribute('width')) / 2, y: y + Number(r.getAttribute('height')) / 2, mail: g.classList.contains('mail') };
  }

  function busY() {
    var b = svg() && svg().querySelector('line.bus');
    return b ? Number(b.getAttribute('y1')) : 212;
  }

  /** Waypoints from node a to node b: mail to mail along the SMTP link below them, else over the backbone. */
  function route(a, b) {
    if (!a || !b) return [];
    if (a.x === b.x && a.y === b.y) return [a, b];
    if (a.mail && b.mail) {
      var dip = Math.max(a.y, b.y) + 110;
      return [a, { x: a.x, y: a.y + 48 }, { x: (a.x + b.x) / 2, y: dip }, { x: b.x, y: b.y + 48 }, b];
    }
    var y = busY();
    return [a, { x: a.x, y: y }, { x: b.x, y: y }, b];
  }

  function pointAt(points, f) {
    var lens = [], total = 0;
    for (var i = 1; i < points.length; i++) {
      var l = Math.hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y);
      lens.push(l); total += l;
    }
    if (!total) return points[0];
    var d = f * total;
    for (var j = 0; j < lens.length; j++) {
      if (d <= lens[j] || j === lens.length - 1) {
        var k = lens[j] ? Math.min(1, d / lens[j]) : 1;
        return { x: points[j].x + (points[j + 1].x - points[j].x) * k, y: points[j].y + (points[j + 1].y - points[j].y) * k };
      }
      d -= lens[j];
    }
    return points[points.length - 1];
  }

  function place(env, p) { env.setAttribute('transform', 'translate(' + p.x.toFixed(1) + ' ' + p.y.toFixed(1) + ')'); }

  /** legs: [{points, from, to}] run one after the other; `stopAt` < 1 turns back there (a failed try). */
  function animate(row) {
    var env = envelope();
    if (!env) return;
    if (anim) cancelAnimationFrame(anim);
    var from = center(row.getAttribute('data-from'));
    var to = center(row.getAttribute('data-to'));
    if (!from || !to) { env.setAttribute('visibility', 'hidden'); return; }
    var kind = row.getAttribute('data-kind');
    var outcome = row.getAttribute('data-outcome');
    env.setAttribute('class', 'envelope cat-' + row.getAttribute('data-category') + ' outcome-' + outcome);
    env.removeAttribute('data-done');
    env.setAttribute('data-at', row.getAttribute('data-to'));
    env.setAttribute('data-step', row.getAttribute('data-key'));
    env.querySelector('.env-mark').textContent = '';
    env.setAttribute('visibility', 'visible');
    var legs;
    if (kind === 'dns-mx' || kind === 'dns-a') legs = [{ pts: route(from, to), mark: '?' }, { pts: route(to, from), mark: outcome === 'ok' ? '✓' : '✕' }];
    else if (outcome === 'wait' && from !== to && row.getAttribute('data-from') !== row.getAttribute('data-to')) legs = [{ pts: route(from, to), stop: 0.5, mark: '✕' }];
    else legs = [{ pts: route(from, to), mark: outcome === 'fail' ? '✕' : '' }];
    var i = 0, t0 = null;
    function frame(ts) {
      if (t0 === null) t0 = ts;
      var leg = legs[i];
      var f = Math.min(1, (ts - t0) / LEG_MS);
      if (leg.stop !== undefined) {
        // There and back again: the connection did not get through.
        var g = f < 0.6 ? (f / 0.6) * leg.stop : leg.stop * (1 - (f - 0.6) / 0.4);
        place(env, pointAt(leg.pts, g));
        if (f >= 0.6) env.querySelector('.env-mark').textContent = leg.mark;
      } else {
        place(env, pointAt(leg.pts, f));
        if (f >= 1) env.querySelector('.env-mark').textContent = leg.mark;
      }
      if (f < 1) { anim = requestAnimationFrame(frame); return; }
      if (++i < legs.length) { t0 = null; anim = requestAnimationFrame(frame); return; }
      anim = null;
      env.setAttribute('data-done', row.getAttribute('data-key'));
    }
    anim = requestAnimationFrame(frame);
  }

  // --- selection, details, the player -------------------------------------

  function showDetails(row) {
    var pane = document.getElementById('path-details');
    if (!pane) return;
    var key = row ? row.getAttribute('data-key') : null;
    var src = null;
    if (key) {
      var all = body().querySelectorAll('.details-store .step-details');
      for (var i = 0; i < all.length; i++) if (all[i].getAttribute('data-key') === key) src = all[i];
    }
    var hint = pane.querySelector('.hint');
    var old = pane.querySelector('.step-details');
    if (old) pane.removeChild(old);
    if (!src) { if (hint) hint.hidden = false; return; }
    if (hint) hint.hidden = true;
    var copy = src.cloneNode(true);
    copy.hidden = false;
    pane.appendChild(copy);
  }

  function position() {
    var el = document.querySelector('.path-controls .position');
    if (!el) return;
    var list = rows();
    var i = indexOfKey(list, state.key);
    el.textContent = list.length ? el.getAttribute('data-template').replace('{i}', String(i + 1)).replace('{n}', String(list.length)) : '';
  }

  function select(i, animateIt) {
    var list = rows();
    if (!list.length) { state.key = null; showDetails(null); position(); return; }
    i = Math.max(0, Math.min(list.length - 1, i));
    var all = body().querySelectorAll('tr.step.current');
    for (var k = 0; k < all.length; k++) all[k].classList.remove('current');
    var row = list[i];
    row.classList.add('current');
    row.setAttribute('aria-current', 'step');
    state.key = row.getAttribute('data-key');
    state.atEnd = i === list.length - 1;
    var wrap = body().querySelector('.path-list-wrap');
    if (wrap) {
      var top = row.offsetTop, bottom = top + row.offsetHeight;
      if (top < wrap.scrollTop + 30 || bottom > wrap.scrollTop + wrap.clientHeight) wrap.scrollTop = Math.max(0, top - wrap.clientHeight / 2);
    }
    page.setAttribute('data-current', state.key);
    page.setAttribute('data-current-index', String(i));
    showDetails(row);
    position();
    if (animateIt !== false) animate(row);
  }

  function current() { return indexOfKey(rows(), state.key); }

  function setPlaying(on) {
    state.playing = on;
    var b = document.querySelector('.path-controls .ctl-play');
    if (b) {
      var label = on ? b.getAttribute('data-pause') : b.getAttribute('data-play');
      b.textContent = (on ? '⏸ ' : '▶ ') + label;
      b.setAttribute('aria-label', label);
      b.setAttribute('aria-pressed', String(on));
    }
    page.setAttribute('data-playing', String(on));
    if (state.timer) { clearInterval(state.timer); state.timer = null; }
    if (on) {
      if (state.atEnd && current() >= rows().length - 1) select(0);
      else select(current() + 1);
      state.timer = setInterval(function () {
        var i = current();
        // At the end: wait there (live steps may still come), playing.
        if (i < rows().length - 1) select(i + 1);
      }, PLAY_MS);
    }
  }

  /** New steps while following: shown one after the other from `from`, quicker than play, then it stops at the newest. */
  function catchUp(from) {
    setPlaying(false);
    select(from);
    state.timer = setInterval(function () {
      var i = current();
      if (i < rows().length - 1) select(i + 1);
      else { clearInterval(state.timer); state.timer = null; }
    }, CATCHUP_MS);
  }

  function op(name) {
    var i = current();
    var n = rows().length;
    if (name === 'play') return setPlaying(!state.playing);
    setPlaying(false);
    if (name === 'first') select(0);
    else if (name === 'back') select(i <= 0 ? 0 : i - 1);
    else if (name === 'forward') select(i < 0 ? 0 : i + 1);
    else if (name === 'last') select(n - 1);
  }

  function applyFilter() {
    var all = body().querySelectorAll('tr.step');
    for (var i = 0; i < all.length; i++) all[i].hidden = !!state.hidden[all[i].getAttribute('data-category')];
    var list = rows();
    if (state.key && indexOfKey(list, state.key) < 0) select(list.length - 1, false);
    position();
  }

  document.addEventListener('click', function (e) {
    var btn = e.target.closest && e.target.closest('.path-controls button[data-op]');
    if (btn) { op(btn.getAttribute('data-op')); return; }
    var row = e.target.closest && e.target.closest('#path-body tr.step');
    if (row) { setPlaying(false); select(indexOfKey(rows(), row.getAttribute('data-key'))); }
  });
  document.addEventListener('change', function (e) {
    if (!e.target.matches || !e.target.matches('.path-controls input[name=cat]')) return;
    state.hidden[e.target.value] = !e.target.checked;
    applyFilter();
  });
  document.addEventListener('keydown', function (e) {
    if (e.target && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
    // On a button the space bar is the button's own.
    if (e.target && e.target.tagName === 'BUTTON' && (e.key === ' ' || e.key === 'Enter')) return;
    if (e.key === 'ArrowRight') { op('forward'); e.preventDefault(); }
    else if (e.key === 'ArrowLeft') { op('back'); e.preventDefault(); }
    else if (e.key === ' ') { op('play'); e.preventDefault(); }
    else if (e.key === 'Home') { op('first'); e.preventDefault(); }
    else if (e.key === 'End') { op('last'); e.preventDefault(); }
  });

  // --- live ---------------------------------------------------------------

  function stepsUrl(id) { return '/lab/' + lab + '/path/steps?id=' + encodeURIComponent(id); }

  function reload() {
    reloadTimer = null;
    if (!currentId || !window.htmx) return;
    htmx.ajax('GET', stepsUrl(currentId), { target: '#path-body', swap: 'innerHTML' });
  }
  function reloadSoon(ms) {
    if (reloadTimer) clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, ms === undefined ? 40 : ms);
  }

  function bare(id) { return String(id || '').trim().replace(/^<|>$/g, ''); }

  function concerns(ev) {
    var b = body().querySelector('.path-body');
    if (!b) return false;
    var d = ev.data || {};
    var mid = b.getAttribute('data-message-id');
    if (mid && d.messageId && bare(d.messageId) === mid) return true;
    var ids = (b.getAttribute('data-queue-ids') || '').split(' ');
    if (d.id && ids.indexOf(d.id) >= 0) return true;
    if (d.queueId && ids.indexOf(d.queueId) >= 0) return true;
    if (d.ids && d.ids.some && d.ids.some(function (x) { return ids.indexOf(x) >= 0; })) return true;
    if (/^mailbox\./.test(ev.type)) return (b.getAttribute('data-mailboxes') || '').split(' ').indexOf(ev.source + '/' + d.user) >= 0 || b.getAttribute('data-pending') === 'true';
    return false;
  }

  function onEvent(m) {
    var ev;
    try { ev = JSON.parse(m.data); } catch (err) { return; }
    if (/^(link|fault)\./.test(ev.type)) {
      var d = document.getElementById('path-drawing');
      if (d && window.htmx) htmx.trigger(d, 'drawing-changed');
      if (ev.type === 'link.restored' || ev.type === 'link.cut') { /* the queue follows by its own events */ }
      return;
    }
    if (/^queue\.(queued|delivered|bounced|returned|deleted|expired|held|released)$/.test(ev.type)) {
      // The queue sizes on the drawing.
      if (drawingTimer) clearTimeout(drawingTimer);
      drawingTimer = setTimeout(function () { var d = document.getElementById('path-drawing'); if (d && window.htmx) htmx.trigger(d, 'drawing-changed'); }, 600);
    }
    if (follow && ev.type === 'queue.queued' && ev.data) {
      var next = ev.data.messageId || ev.data.id;
      var b = body().querySelector('.path-body');
      var same = b && ev.data.messageId && bare(ev.data.messageId) === b.getAttribute('data-message-id');
      if (next && !same && bare(next) !== bare(currentId)) {
        currentId = next;
        page.setAttribute('data-id', currentId);
        state.key = null;
        state.atEnd = true;
        if (window.history && history.replaceState) {
          var u = new URL(location.href);
          u.searchParams.set('id', currentId);
          history.replaceState(null, '', u.pathname + u.search);
        }
        reloadSoon(0);
        return;
      }
    }
    if (concerns(ev)) reloadSoon();
  }

  var TYPES = ['queue.queued', 'queue.attempt', 'queue.deferred', 'queue.delivered', 'queue.bounced', 'queue.delay-notice', 'queue.returned', 'queue.held', 'queue.released', 'queue.deleted', 'queue.expired', 'queue.flushed',
    'mailbox.append', 'mailbox.expunge', 'trace.smtp-in', 'trace.retrieved', 'link.cut', 'link.restored', 'link.slowed', 'link.unslowed', 'fault.applied', 'fault.cleared', 'lost'];

  document.addEventListener('htmx:sseOpen', function (e) {
    var src = e.detail && e.detail.source;
    if (!src || src.__pathListening) return;
    src.__pathListening = true;
    TYPES.forEach(function (t) {
      src.addEventListener(t, function (m) {
        if (t === 'lost') { reloadSoon(0); var d = document.getElementById('path-drawing'); if (d && window.htmx) htmx.trigger(d, 'drawing-changed'); return; }
        onEvent(m);
      });
    });
  });

  document.addEventListener('htmx:beforeSwap', function (e) {
    if (!e.detail.target || e.detail.target.id !== 'path-body') return;
    keysBefore = {};
    var all = body().querySelectorAll('tr.step');
    for (var i = 0; i < all.length; i++) keysBefore[all[i].getAttribute('data-key')] = true;
  });

  document.addEventListener('htmx:afterSwap', function (e) {
    var target = e.detail && e.detail.target;
    if (!target) return;
    if (target.id === 'path-drawing') {
      // A new drawing: a new envelope, where the current step left it.
      var list = rows();
      var i = indexOfKey(list, state.key);
      if (i >= 0) animate(list[i]);
      return;
    }
    if (target.id !== 'path-body') return;
    applyFilter();
    var list2 = rows();
    var had = indexOfKey(list2, state.key);
    page.setAttribute('data-steps', String(list2.length));
    page.setAttribute('data-updated', String(Date.now()));
    var firstNew = -1;
    for (var k = 0; k < list2.length; k++) {
      if (!keysBefore || !keysBefore[list2[k].getAttribute('data-key')]) { firstNew = k; break; }
    }
    keysBefore = null;
    if (!list2.length) { select(0); return; }
    if (state.key === null) {
      // Another message (the newest of the lab): its story from the start.
      catchUp(0);
    } else if ((state.atEnd || had < 0) && firstNew >= 0 && !state.playing) {
      // Following the story as it happens: the new steps, one after the other.
      catchUp(firstNew);
    } else if (had >= 0) {
      select(had, false);
    } else {
      select(list2.length - 1, true);
    }
  });

  document.addEventListener('DOMContentLoaded', function () {
    envelope();
    var list = rows();
    page.setAttribute('data-steps', String(list.length));
    // A message still on its way: where it is now (and on from there, live); a finished one: from the start.
    var pending = body().querySelector('.path-body[data-pending="true"]');
    if (list.length) select(follow || pending ? list.length - 1 : 0, true);
    else position();
  });
})();
