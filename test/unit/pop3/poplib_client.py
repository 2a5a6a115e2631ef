"""Drives the POP3 server with Python's standard poplib, as a real client would.

Usage: poplib_client.py PORT USER SECRET MODE [DELETE...]
MODE is "user" (USER/PASS) or "apop". Prints one JSON object: the greeting,
CAPA, STAT, LIST, UIDL, every message (RETR, dot-unstuffed by poplib), TOP 1 0
and the QUIT reply, after marking the message numbers in DELETE for deletion.
A POP3 error prints {"error": "..."} and exits 2.
"""
import json
import poplib
import sys


def main() -> int:
    port, user, secret, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    delete = [int(n) for n in sys.argv[5:]]
    out = {}
    pop = poplib.POP3("127.0.0.1", port, timeout=10)
    try:
        out["greeting"] = pop.getwelcome().decode()
        out["capa"] = {k: v for k, v in pop.capa().items()}
        if mode == "apop":
            out["login"] = pop.apop(user, secret).decode()
        else:
            pop.user(user)
            out["login"] = pop.pass_(secret).decode()
        out["stat"] = list(pop.stat())
        out["list"] = [l.decode() for l in pop.list()[1]]
        out["uidl"] = [l.decode() for l in pop.uidl()[1]]
        out["messages"] = [b"\r\n".join(pop.retr(n)[1]).decode("latin1") for n in range(1, out["stat"][0] + 1)]
        if out["stat"][0]:
            out["top"] = b"\r\n".join(pop.top(1, 0)[1]).decode("latin1")
        for n in delete:
            pop.dele(n)
        out["quit"] = pop.quit().decode()
    except poplib.error_proto as e:
        print(json.dumps({"error": e.args[0].decode() if isinstance(e.args[0], bytes) else str(e.args[0])}))
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
