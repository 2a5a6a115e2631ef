/*
 * mail-lab Queue page: keeps the countdowns to the next attempt and the
 * progress toward the delay warning and the return counting between the
 * live reloads of the queue (the server's clock, not the browser's: the
 * fragment says the server's time when it was made).
 */
(function () {
  'use strict';

  var skew = 0; // server time - browser time, in ms

  function readSkew() {
    var root = document.querySelector('[data-server-now]');
    if (!root) return;
    var t = Date.parse(root.getAttribute('data-server-now'));
    if (!isNaN(t)) skew = t - Date.now();
  }

  function pad(n) { return n < 10 ? '0' + n : String(n); }

  function countdown(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    return h ? h + ':' + pad(m) + ':' + pad(s % 60) : m + ':' + pad(s % 60);
  }

  function tick() {
    var now = Date.now() + skew;
    var cds = document.querySelectorAll('.countdown[data-at]');
    for (var i = 0; i < cds.length; i++) {
      var el = cds[i];
      var ms = Date.parse(el.getAttribute('data-at')) - now;
      var text = ms > 0 ? el.getAttribute('data-template').replace('{t}', countdown(ms)) : el.getAttribute('data-due');
      if (el.textContent !== text) el.textContent = text;
      el.classList.toggle('due', ms <= 0);
      el.setAttribute('data-remaining', String(Math.max(0, Math.ceil(ms / 1000))));
    }
    var dls = document.querySelectorAll('.deadline[data-from]:not(.done) progress');
    for (var j = 0; j < dls.length; j++) {
      var box = dls[j].parentNode;
      var from = Date.parse(box.getAttribute('data-from'));
      var to = Date.parse(box.getAttribute('data-to'));
      var part = Math.min(1, Math.max(0, (now - from) / Math.max(1, to - from)));
      dls[j].value = Math.round(part * 1000);
    }
  }

  document.addEventListener('DOMContentLoaded', function () { readSkew(); tick(); });
  document.addEventListener('htmx:afterSwap', function () { readSkew(); tick(); });
  setInterval(tick, 1000);
})();
