/*
 * mail-lab webmail: the little script beside htmx (no inline scripts: the
 * Content-Security-Policy forbids them).
 * - The "show the protocol" drawer stays open (or closed) from page to page
 *   (sessionStorage); when it is opened it asks the server for the last
 *   click's lines again (hx-get on its toggle: a download also talks IMAP).
 * - The message being read is scrolled into view in the list.
 */
(function () {
  'use strict';
  var KEY = 'mail-lab.protocol-open';

  function drawer() {
    return document.getElementById('protocol');
  }

  function remember() {
    var d = drawer();
    if (!d) return;
    try {
      sessionStorage.setItem(KEY, d.open ? '1' : '0');
    } catch (e) {
      // storage refused (private mode): the drawer just starts closed
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var d = drawer();
    if (d) {
      var open = false;
      try {
        open = sessionStorage.getItem(KEY) === '1';
      } catch (e) {
        open = false;
      }
      // Opened before htmx listens: this page already shows this click's lines.
      if (open) d.open = true;
      d.addEventListener('toggle', remember);
    }
    var selected = document.querySelector('.messages li.selected');
    if (selected && selected.scrollIntoView) selected.scrollIntoView({ block: 'nearest' });
  });
})();
