/*
 * mail-lab DNS page: the query log is reloaded on each live dns.query
 * event; the rows that were not there before flash, and the type chooser
 * keeps showing only the questions of one type.
 */
(function () {
  'use strict';

  var known = null;

  function rows() { return document.querySelectorAll('#dns-log tr[data-key]'); }

  function filter() {
    var sel = document.getElementById('dns-type');
    var want = sel ? sel.value : '';
    var rs = rows();
    for (var i = 0; i < rs.length; i++) rs[i].hidden = !!want && rs[i].getAttribute('data-type') !== want;
  }

  function remember() {
    known = {};
    var rs = rows();
    for (var i = 0; i < rs.length; i++) known[rs[i].getAttribute('data-key')] = true;
  }

  document.addEventListener('DOMContentLoaded', function () {
    remember();
    var sel = document.getElementById('dns-type');
    if (sel) sel.addEventListener('change', filter);
    filter();
  });
  document.addEventListener('htmx:afterSwap', function (e) {
    if (!e.detail.target || e.detail.target.id !== 'dns-log') return;
    var rs = rows();
    for (var i = 0; i < rs.length; i++) {
      if (known && !known[rs[i].getAttribute('data-key')]) rs[i].classList.add('new');
    }
    remember();
    filter();
  });
})();
