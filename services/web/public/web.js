/*
 * mail-lab web pages: the little script beside htmx (no inline scripts: the
 * Content-Security-Policy forbids them).
 * - Shows an error answer of an htmx request (4xx/5xx are not swapped by htmx)
 *   in a toast, as text.
 * - Marks the page "live" or "reconnecting" from the live stream's state
 *   (body[data-live], shown by the header's live indicator).
 * - When the tab missed live events (`lost`), the parts that listen for it
 *   reload themselves (hx-trigger "sse:lost", see live/tabs.ts liveTrigger).
 */
(function () {
  'use strict';

  function toast(text, kind) {
    var box = document.getElementById('toast');
    if (!box) {
      box = document.createElement('div');
      box.id = 'toast';
      box.setAttribute('role', 'alert');
      document.body.appendChild(box);
    }
    box.className = 'toast ' + (kind || 'error');
    box.textContent = text;
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 8000);
  }

  function textOf(html) {
    var doc = new DOMParser().parseFromString(html || '', 'text/html');
    var main = doc.querySelector('.notice') || doc.body;
    return (main && main.textContent || '').replace(/\s+/g, ' ').trim();
  }

  document.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (!xhr) return;
    toast(textOf(xhr.responseText) || ('HTTP ' + xhr.status));
  });
  document.addEventListener('htmx:sendError', function () {
    toast(document.body.getAttribute('data-lang') === 'id' ? 'Server web tidak menjawab.' : 'The web server does not answer.');
  });
  document.addEventListener('htmx:sseOpen', function () {
    document.body.setAttribute('data-live', 'open');
  });
  document.addEventListener('htmx:sseError', function () {
    document.body.setAttribute('data-live', 'reconnecting');
  });
})();
