/**
 * The webmail's parts on their own: the HTML whitelist against the usual
 * tricks, safe file names and download headers, the Received chain parsed
 * into hops (linked only for the instructor), the protocol log masking the
 * password in every form, the worksheets' Markdown (escaped, links kept in
 * the lab), the recipients of a compose form, sizes in words.
 */
import { ProtocolLog } from '../../../services/web/src/webmail/protocol-log';
import { contentDisposition, safeFilename, sizeInWords } from '../../../services/web/src/webmail/files';
import { sanitizeHtml } from '../../../services/web/src/webmail/sanitize';
import { parseReceived, ReceivedChain, receivedChain } from '../../../services/web/src/webmail/received';
import { Markdown } from '../../../services/web/src/webmail/markdown';
import { ComposeError, parseRecipients, quote, replySubject } from '../../../services/web/src/webmail/compose';
import { checkFolderName, FolderNameError } from '../../../services/web/src/webmail/mailbox';
import { t as translate } from '../../../services/web/src/i18n';

const t = (key: string, params?: Record<string, string | number>) => translate('en', key, params);
const render = (x: unknown) => String(x);

describe('sanitizeHtml', () => {
  const vectors: [string, string][] = [
    ['<script>alert(1)</script>ok', 'ok'],
    ['<SCRIPT SRC=//evil/x.js></SCRIPT>ok', 'ok'],
    ['<img src=x onerror=alert(1)>', ''],
    ['<IMG SRC="javascript:alert(1)">', ''],
    ['<img src="http://evil.example/p.gif">', ''],
    ['<img src="//evil.example/p.gif">', ''],
    ['<img srcset="http://evil.example/a.png 2x" src="data:image/png;base64,AAAA">', '<img src="data:image/png;base64,AAAA">'],
    ['<img src="data:image/svg+xml;base64,PHN2Zz4=">', ''],
    ['<img src="data:text/html,<script>alert(1)</script>">', ''],
    ['<svg><script>alert(1)</script></svg>ok', 'ok'],
    ['<math><mi xlink:href="javascript:alert(1)">x</mi></math>ok', 'ok'],
    ['<a href="javascript:alert(1)">x</a>', '<a class="mail-link">x</a>'],
    ['<a href="https://example.org/" onclick="x()">x</a>', '<a title="https://example.org/" class="mail-link">x</a>'],
    ['<form action="http://evil/"><input name=p value="a"><button>go</button></form>t', 't'],
    ['<iframe src="http://evil/"></iframe><object data=x></object><embed src=x>ok', 'ok'],
    ['<style>@import url(http://evil/x.css)</style><p style="background:url(http://evil/)">p</p>', '<p>p</p>'],
    ['<link rel=stylesheet href=http://evil/x.css><base href="http://evil/"><meta http-equiv="refresh" content="0;url=http://evil/">ok', 'ok'],
    ['<p>a &lt;b&gt; &amp; "q"</p>', '<p>a &lt;b&gt; &amp; "q"</p>'],
    ['<table><tr><td colspan="2" onmouseover="x()">c</td></tr></table>', '<table><tr><td colspan="2">c</td></tr></table>'],
    ['<noscript><img src=x onerror=alert(1)></noscript>ok', 'ok'],
    ['<textarea><img src=x onerror=alert(1)></textarea>ok', 'ok'],
    ['<p title="&quot;><script>alert(1)</script>">x</p>', '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">x</p>'],
    ['<!--<script>alert(1)</script>-->ok', 'ok'],
    ['<template><script>alert(1)</script></template>ok', 'ok'],
    ['<b>unclosed <i>tags', '<b>unclosed <i>tags</i></b>'],
  ];
  test.each(vectors)('%s', (input, expected) => {
    const out = sanitizeHtml(input, { remoteImage: '' }).html.replace(/<span class="blocked-image" title="[^"]*"><\/span>/g, '');
    expect(out).toBe(expected);
    expect(out).not.toMatch(/<script|on\w+=|javascript:|src="(?!data:image\/png)/i);
  });

  test('cid: images from the message itself; remote ones replaced by words; what was removed, counted', () => {
    const r = sanitizeHtml('<img src="cid:logo@x" alt="L"><img src="https://t.example/p.gif"><script>1</script><img src="cid:unknown">', {
      cid: new Map([['logo@x', 'data:image/png;base64,AAAA']]),
      remoteImage: '[not loaded: {url}]',
    });
    expect(r.html).toBe('<img alt="L" src="data:image/png;base64,AAAA"><span class="blocked-image" title="https://t.example/p.gif">[not loaded: https://t.example/p.gif]</span><span class="blocked-image" title="cid:unknown">[not loaded: cid:unknown]</span>');
    expect(r.removed).toEqual({ scripts: 1, handlers: 0, remoteImages: 1, forms: 0, other: 0 });
  });
});

describe('file names and downloads', () => {
  test.each([
    ['laporan.pdf', 'laporan.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\guru\\nilai.xlsx', 'nilai.xlsx'],
    ['<img src=x onerror=alert(1)>.png', '_img src=x onerror=alert(1)_.png'],
    ['.htaccess', 'htaccess'],
    ['a\u0000b\u202Egnp.exe', 'abgnp.exe'],
    ['', 'attachment'],
    [undefined, 'attachment'],
    ['CON.txt', '_CON.txt'],
    ['foto liburan "bali" 2024.jpg', 'foto liburan _bali_ 2024.jpg'],
    [`${'x'.repeat(300)}.docx`, `${'x'.repeat(115)}.docx`],
  ])('%j -> %j', (name, safe) => expect(safeFilename(name as string)).toBe(safe));

  test('Content-Disposition: an ASCII fallback and the UTF-8 name', () => {
    expect(contentDisposition('Tugas Siti Nurhaliza – bab 1.pdf')).toBe(`attachment; filename="Tugas Siti Nurhaliza _ bab 1.pdf"; filename*=UTF-8''Tugas%20Siti%20Nurhaliza%20%E2%80%93%20bab%201.pdf`);
    expect(contentDisposition('a"b.txt')).toBe(`attachment; filename="a_b.txt"; filename*=UTF-8''a_b.txt`);
  });

  test('sizes in words, both languages', () => {
    expect(sizeInWords(10485760)).toBe('10 MB');
    expect(sizeInWords(11010048, 'id')).toBe('10,5 MB');
    expect(sizeInWords(2048)).toBe('2 KB');
    expect(sizeInWords(300, 'id')).toBe('300 bita');
  });
});

describe('the Received chain', () => {
  const received = [
    'from mail.garudayaksa.com (localhost [127.0.0.1])\r\n\tby mail.dadali.com (mail-lab) with ESMTPS id MX2; Wed, 02 Dec 2026 04:35:52 +0000',
    'from [127.0.0.1] (localhost [127.0.0.1])\r\n\tby mail.garudayaksa.com (mail-lab) with ESMTPSA id MX1\r\n\tfor <jpri@dadali.com>; Wed, 02 Dec 2026 04:35:51 +0000',
  ];

  test('parsed and put in the order the message went', () => {
    const hops = receivedChain(received);
    expect(hops.map((h) => [h.from, h.fromDetail, h.by, h.with, h.id, h.for])).toEqual([
      ['[127.0.0.1]', 'localhost [127.0.0.1]', 'mail.garudayaksa.com', 'ESMTPSA', 'MX1', 'jpri@dadali.com'],
      ['mail.garudayaksa.com', 'localhost [127.0.0.1]', 'mail.dadali.com', 'ESMTPS', 'MX2', undefined],
    ]);
    expect(hops[1].date!.getTime() - hops[0].date!.getTime()).toBe(1000);
    expect(parseReceived('garbage without the words').by).toBeUndefined();
  });

  test('each hop links to the Message path for the instructor only', () => {
    const hops = receivedChain(received);
    const forInstructor = render(ReceivedChain({ hops, t, lab: 7, messageId: '<a&b@x>', instructor: true }));
    expect(forInstructor.match(/<a class="hop-link" href="\/lab\/7\/path\?id=%3Ca%26b%40x%3E">/g)).toHaveLength(2);
    expect(forInstructor).toContain('ESMTPSA, TLS, logged in');
    expect(forInstructor).toContain('1 s after the hop before');
    const forStudent = render(ReceivedChain({ hops, t, lab: 7, messageId: '<a&b@x>', instructor: false }));
    expect(forStudent).not.toContain('href=');
    expect(forStudent).toContain('<strong class="hop-by">mail.dadali.com</strong>');
  });
});

describe('the protocol log', () => {
  test('the password never shows: as typed, in base64, in an AUTH PLAIN response', () => {
    const log = new ProtocolLog('x', ['rahasia123'], 'siswa1@garudayaksa.com');
    const smtp = log.smtpLogger();
    const imap = log.imapLogger();
    smtp.debug({ tnx: 'client' }, 'AUTH PLAIN %s', Buffer.from('\0siswa1@garudayaksa.com\0rahasia123').toString('base64'));
    smtp.debug({ tnx: 'client' }, Buffer.from('rahasia123').toString('base64'));
    imap.debug({ src: 'c', msg: '1 LOGIN "siswa1@garudayaksa.com" "rahasia123"' });
    imap.debug({ src: 'c', msg: Buffer.from('\0siswa1@garudayaksa.com\0(* value hidden *)').toString('base64') });
    imap.trace({ src: 's', msg: `* 1 FETCH (BODY[] {5000}\r\n${'x'.repeat(5000)})` });
    imap.info({ msg: 'Some library chatter' });
    const text = log.lines.map((l) => `${l.proto} ${l.dir} ${l.text}`).join('\n');
    expect(text).not.toContain('rahasia123');
    expect(text).not.toContain(Buffer.from('rahasia123').toString('base64'));
    expect(log.lines.map((l) => l.text)).toEqual([
      'AUTH PLAIN ****',
      '****',
      '1 LOGIN "siswa1@garudayaksa.com" "****"',
      '<base64 of "\\0siswa1@garudayaksa.com\\0****", the password hidden>',
      `* 1 FETCH (BODY[] {5000}`,
      `${'x'.repeat(300)} … (5001 characters)`,
    ]);
  });
});

describe('worksheets as Markdown', () => {
  const o = { linkTo: (href: string) => (href === 'other.md' ? '/lab/3/guide/other' : null) };
  test('headings, code, lists with code inside, tables, inline marks, links; all escaped', () => {
    const md = [
      '# Title <script>alert(1)</script>',
      '',
      'Some *em* and **strong** and `code <b>` and [a sheet](other.md) and [repo](../../README.md).',
      '',
      '1. First:',
      '',
      '   ```sh',
      '   telnet localhost 10025',
      '   ```',
      '',
      '2. Second <img src=x>',
      '',
      '| a | b |',
      '| --- | --- |',
      '| `x` | y |',
    ].join('\n');
    const html = render(Markdown({ text: md, o }));
    expect(html).toContain('<h1>Title &lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(html).toContain('<em>em</em> and <strong>strong</strong> and <code>code &lt;b&gt;</code> and <a href="/lab/3/guide/other">a sheet</a> and repo.');
    expect(html).toContain('<ol start="1"><li><p>First:</p><pre class="code lang-sh"><code>telnet localhost 10025</code></pre></li><li>Second &lt;img src=x&gt;</li></ol>');
    expect(html).toContain('<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td><code>x</code></td><td>y</td></tr></tbody></table>');
    expect(html).not.toMatch(/<script|<img/);
  });
  test('an emphasis with strong parts inside (the worksheets’ lesson line)', () => {
    expect(render(Markdown({ text: '*Lesson: **2.C Server IMAP** (port 143) and **3. X** (y).*\nScenario: `a` · 5 min', o }))).toBe(
      '<p><em>Lesson: <strong>2.C Server IMAP</strong> (port 143) and <strong>3. X</strong> (y).</em> Scenario: <code>a</code> · 5 min</p>',
    );
  });
});

describe('compose', () => {
  test('recipients: names and addresses, a bad one named', () => {
    expect(parseRecipients('Joko <jpri@dadali.com>, siswa1@dadali.com')).toEqual([
      { name: 'Joko', address: 'jpri@dadali.com' },
      { name: '', address: 'siswa1@dadali.com' },
    ]);
    expect(() => parseRecipients('jpri@dadali.com, joko')).toThrow(ComposeError);
    expect(parseRecipients('  ')).toEqual([]);
  });
  test('reply subject and quote', () => {
    expect(replySubject('Re: halo')).toBe('Re: halo');
    expect(replySubject('halo')).toBe('Re: halo');
    expect(quote('a\n> b\n', 'X wrote:')).toBe('\n\nX wrote:\n> a\n>> b\n');
  });
  test('folder names: levels with /, never wildcards, quotes, INBOX or empty levels', () => {
    expect(checkFolderName(' Arsip/2024 ')).toBe('Arsip/2024');
    for (const bad of ['', 'a*b', 'a%', 'a"b', '/a', 'a/', 'a//b', 'INBOX', 'inbox/x', '../x', 'a\\b', 'x'.repeat(101)]) expect(() => checkFolderName(bad)).toThrow(FolderNameError);
  });
});
