/*
 * mail-lab Mailbox file page: when the file is reloaded (a live mailbox
 * event of the account), shows what changed: appended lines highlighted,
 * removed lines struck out and collapsing, the size before and after, and
 * which protocol downloaded the messages (the trace.retrieved events of the
 * account). The text itself is the server's; this only marks lines.
 */
(function () {
  'use strict';

  var root = document.querySelector('.mailbox-page');
  if (!root) return;
  var user = root.getAttribute('data-user');
  var lastProtocol = null;
  var lastResponse = null;
  var before = null;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, k) { return Object.prototype.hasOwnProperty.call(values, k) ? values[k] : all; });
  }

  function group(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' '); }

  function linesOf(pre) {
    var out = [];
    if (!pre) return out;
    var spans = pre.querySelectorAll('.ln:not(.removed)');
    for (var i = 0; i < spans.length; i++) out.push(spans[i].textContent);
    return out;
  }

  document.addEventListener('htmx:sseOpen', function (e) {
    var src = e.detail && e.detail.source;
    if (!src || src.__mboxListening) return;
    src.__mboxListening = true;
    src.addEventListener('trace.retrieved', function (m) {
      try {
        var ev = JSON.parse(m.data);
        if (ev.data && ev.data.user === user) lastProtocol = String(ev.data.protocol || '').toUpperCase();
      } catch (err) { /* not ours */ }
    });
  });

  document.addEventListener('htmx:beforeSwap', function (e) {
    if (!e.detail.target || e.detail.target.id !== 'mbox') return;
    var text = e.detail.serverResponse;
    if (lastResponse !== null && text === lastResponse) {
      // Nothing changed: keep what is marked.
      e.detail.shouldSwap = false;
      return;
    }
    lastResponse = text;
    var file = document.querySelector('#mbox .mbox-file');
    before = { lines: linesOf(document.getElementById('mbox-text')), size: file ? Number(file.getAttribute('data-size')) : 0 };
  });

  document.addEventListener('htmx:afterSwap', function (e) {
    if (!e.detail.target || e.detail.target.id !== 'mbox' || !before) return;
    var pre = document.getElementById('mbox-text');
    var file = document.querySelector('#mbox .mbox-file');
    if (!pre || !file) return;
    var a = before.lines;
    var spans = pre.querySelectorAll('.ln');
    var b = [];
    for (var i = 0; i < spans.length; i++) b.push(spans[i].textContent);
    var p = 0;
    while (p < a.length && p < b.length && a[p] === b[p]) p++;
    var s = 0;
    while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
    var added = b.length - s - p;
    var removed = a.slice(p, a.length - s);
    var first = null;
    for (var j = p; j < b.length - s; j++) {
      spans[j].classList.add('added');
      first = first || spans[j];
    }
    if (removed.length) {
      var at = spans[p] || null;
      var gone = [];
      for (var k = 0; k < removed.length; k++) {
        var span = document.createElement('span');
        span.className = 'ln removed';
        span.textContent = removed[k];
        pre.insertBefore(span, at);
        gone.push(span);
      }
      first = first || gone[0];
      setTimeout(function () {
        gone.forEach(function (g) { g.classList.add('collapsing'); });
        setTimeout(function () { gone.forEach(function (g) { if (g.parentNode) g.parentNode.removeChild(g); }); }, 1600);
      }, 2500);
    }
    var after = Number(file.getAttribute('data-size'));
    var box = document.getElementById('mbox-change');
    if (box && (added || removed.length)) {
      var diff = after - before.size;
      var how = lastProtocol ? fill(root.getAttribute('data-msg-how'), { protocol: lastProtocol }) : '';
      var words = !removed.length && added ? root.getAttribute('data-msg-grew') : !added && removed.length ? root.getAttribute('data-msg-shrank') : root.getAttribute('data-msg-changed');
      box.textContent = fill(words, { before: group(before.size), after: group(after), diff: group(Math.abs(diff)), how: how });
      box.className = 'mbox-change ' + (diff >= 0 ? 'grew' : 'shrank');
      box.setAttribute('data-before', String(before.size));
      box.setAttribute('data-after', String(after));
      box.hidden = false;
    }
    // Scroll the file (not the page) to the change.
    if (first) pre.scrollTop = Math.max(0, first.offsetTop - pre.clientHeight / 3);
    before = null;
  });
})();
