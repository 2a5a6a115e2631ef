"""Drives the mail-lab IMAP server with Python's imaplib (a real client).

Usage: imaplib_session.py PORT USER PASSWORD
Prints one line per check as `ok <name>` and exits non-zero on the first failure.
"""
import imaplib
import sys

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def check(name, condition, detail=''):
    if not condition:
        print(f'FAIL {name} {detail}')
        sys.exit(1)
    print(f'ok {name}')


m = imaplib.IMAP4('127.0.0.1', port)
check('capability', 'IMAP4REV1' in m.capabilities and 'IDLE' in m.capabilities, m.capabilities)
typ, _ = m.login(user, password)
check('login', typ == 'OK')

typ, boxes = m.list()
names = [b.decode() for b in boxes]
check('list', typ == 'OK' and any('"INBOX"' in n for n in names) and any('\\Sent' in n for n in names), names)

typ, data = m.select('INBOX')
check('select', typ == 'OK' and data[0] == b'2', data)

typ, data = m.search(None, 'ALL')
check('search all', data[0] == b'1 2', data)
typ, data = m.search('UTF-8', 'SUBJECT', '"Rapat"')
check('search subject', data[0] == b'2', data)
typ, data = m.uid('SEARCH', None, 'FROM', 'jpri')
check('uid search', data[0] == b'1 2', data)

typ, data = m.fetch('1', '(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
check('fetch header fields', typ == 'OK' and b'Subject: =?UTF-8?Q?Laporan' in data[0][1], data)
typ, data = m.fetch('2', '(RFC822)')
check('fetch rfc822', typ == 'OK' and b'Rapat jam tiga' in data[0][1], data)
typ, data = m.fetch('2', '(FLAGS)')
check('fetch sets seen', b'\\Seen' in data[0], data)

typ, data = m.store('1', '+FLAGS', '(\\Deleted)')
check('store', typ == 'OK' and b'\\Deleted' in data[0], data)
typ, data = m.expunge()
check('expunge', typ == 'OK' and data == [b'1'], data)
typ, data = m.search(None, 'ALL')
check('after expunge', data[0] == b'1', data)

typ, _ = m.create('Projects')
check('create', typ == 'OK')
typ, _ = m.create('Projects/2026')
check('create child', typ == 'OK')
typ, data = m.copy('1', 'Projects/2026')
check('copy', typ == 'OK', data)
typ, _ = m.rename('Projects/2026', 'Projects/Archive')
check('rename', typ == 'OK')
typ, data = m.status('Projects/Archive', '(MESSAGES)')
check('status', typ == 'OK' and b'MESSAGES 1' in data[0], data)
typ, data = m.list('', 'Projects/*')
check('list pattern', len(data) == 1 and b'Projects/Archive' in data[0], data)
typ, _ = m.delete('Projects/Archive')
check('delete', typ == 'OK')
typ, _ = m.delete('Projects')
check('delete parent', typ == 'OK')
typ, data = m.select('Projects')
check('select deleted', typ == 'NO' and b'NONEXISTENT' in data[0], data)

typ, _ = m.logout()
check('logout', typ == 'BYE')
