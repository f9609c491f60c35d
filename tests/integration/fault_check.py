"""fault_check.py: what the fault tests (faults.py) check once a fault
is over: every acknowledged message and APPEND present exactly once (at
the UID APPENDUID named), no UID given to two messages, the flags of the
last acknowledged STORE, and the same digest of each partition on all
its replicas; and every node still running, with no sanitizer report,
heap corruption or failed assertion in its log. h is a faults.Harness;
nothing here injects a fault."""
import imaplib
import json
import re
import time
import urllib.request

from fault_load import CLIENT_TIMEOUT, PASSWORD, log, parse_fetch

# What ASan/UBSan, glibc's heap checks, assert() and our aborting
# allocators print before a node dies (or, for UBSan, goes on).
CRASH_RE = re.compile(rb"ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                      rb"runtime error:|malloc\(\)|free\(\)|double free|"
                      rb"corrupted|Assertion .* failed|^fatal: ", re.M)


def read_mailbox(h, user, timeout=60):
    """(uidvalidity, [(uid, flags, msgid)]) of user's INBOX, through
    any node."""
    deadline = time.time() + timeout
    k = 0
    while True:
        ts = h.targets()
        t = ts[k % len(ts)]
        k += 1
        try:
            m = imaplib.IMAP4(t.host, t.imap_port, timeout=CLIENT_TIMEOUT)
            try:
                m.login(user, PASSWORD)
                typ, _ = m.select("INBOX", readonly=True)
                assert typ == "OK"
                uidv = int(m.untagged_responses["UIDVALIDITY"][-1])
                typ, data = m.uid(
                    "FETCH", "1:*",
                    "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
                assert typ == "OK", data
                m.logout()
                return uidv, parse_fetch(data)
            finally:
                try:
                    m.shutdown()
                except OSError:
                    pass
        except (imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError,
                AssertionError) as e:
            assert time.time() < deadline, f"read {user}: {e!r}"
            time.sleep(0.3)


def check_mail(h, live=False):
    """Every acknowledged message and APPEND exactly once, at its
    APPENDUID; no Message-ID twice; no UID for two messages; the
    flags of the last acknowledged STORE. live: while a load runs
    (what is acknowledged during the reads is left for later, and
    flags, which may be changing, are not compared)."""
    problems = []
    present = {}
    with h.ledger.lock:
        acked = dict(h.ledger.acked)
    for user in h.users + h.imap_users + [h.ns_imap_user]:
        uidv, msgs = read_mailbox(h, user)
        ids = {}
        for uid, flags, msgid in msgs:
            h.ledger.saw(user, uidv, uid, msgid)
            ids.setdefault(msgid, []).append((uidv, uid, flags))
        for msgid, where in ids.items():
            if len(where) > 1:
                problems.append(f"{user}: {msgid} {len(where)} times "
                                f"{where}")
        present[user] = ids
    for msgid, rec in acked.items():
        where = present.get(rec["user"], {}).get(msgid)
        if not where:
            problems.append(f"lost: {msgid} ({rec['kind']} via "
                            f"{rec['via']} to {rec['user']} at "
                            f"{rec['t']:.3f})")
            continue
        uidv, uid, flags = where[0]
        if rec["kind"] == "append" and (uidv, uid) != (rec["uidv"],
                                                       rec["uid"]):
            problems.append(f"{msgid}: APPENDUID {rec['uidv']} "
                            f"{rec['uid']}, now at {uidv} {uid}")
        want = None if live else h.ledger.flags.get(msgid)
        if want is not None and flags is not None and \
                ("\\Flagged" in flags) != want:
            problems.append(f"{msgid}: flagged should be {want}, "
                            f"flags {flags}")
    with h.ledger.lock:
        known = set(h.ledger.acked) | h.ledger.tried
    for user, ids in present.items():
        for msgid in ids:
            if msgid not in known:
                problems.append(f"{user}: {msgid} was never sent")
    for key, a, b in sorted(set(h.ledger.conflicts)):
        problems.append(f"UID {key} given to {a} and {b}")
    n = sum(len(v) for v in present.values())
    log(f"mail: {len(acked)} acknowledged, {n} stored, "
        f"{len(problems)} problems; client errors {h.ledger.errors}")
    return problems


def digest(h, node_id, part):
    n = h.c.node(node_id)
    with open(h.c.token_file) as f:
        token = f.read().strip()
    req = urllib.request.Request(
        f"http://{n.bind}:{n.http_port}/api/v1/partitions/{part}/digest",
        headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def check_digests(h, timeout=60):
    """Each partition's replicas at one position, with one digest."""
    st = h.status()
    problems = []
    deadline = time.time() + timeout
    for p in st["partitions"]:
        part = p["id"]
        while True:
            ds = {r: digest(h, r, part) for r in p["replicas"]}
            pos = {(d["epoch"], d["lsn"]) for d in ds.values()}
            if len(pos) == 1:
                shas = {(d["sha256"], d["keys"]) for d in ds.values()}
                if len(shas) != 1:
                    problems.append(f"partition {part} differs at "
                                    f"{pos}: {ds}")
                break
            if time.time() > deadline:
                problems.append(f"partition {part}: replicas at "
                                f"different positions: {ds}")
                break
            time.sleep(0.2)
    log(f"digests: {len(st['partitions'])} partitions x "
        f"{len(p['replicas'])} replicas, {len(problems)} problems")
    return problems


def check_nodes(h):
    """Every node runs and none of them reported a crash."""
    problems = []
    for n in h.c.nodes:
        if not n.alive():
            problems.append(f"{n.node_id} is not running:\n" +
                            n.log_tail(30))
        with open(n.log_path, "rb") as f:
            text = f.read()
        for m in CRASH_RE.finditer(text):
            at = text.rfind(b"\n", 0, m.start()) + 1
            problems.append(f"{n.node_id} log: " +
                            text[at:at + 4000].decode(errors="replace"))
            break
    return problems
