"""fault_probe.py: single writes of the fault tests (faults.py) whose
answer is asserted, not just recorded like the load's: a write sent to
a node all but its last octets before a fault and finished during it
(SMTP DATA's final dot, an APPEND with a LITERAL+ literal), so that a
frozen node finds it waiting when it thaws; and a write that must be
refused while no node reaches etcd. Every answer goes into the ledger
too, so the checks afterwards find what was acknowledged."""
import re
import smtplib
import socket
import time

from fault_load import (CLIENT_TIMEOUT, DOMAIN, PASSWORD, APPENDUID_RE,
                        message)

TAGGED_RE = re.compile(rb"^a(\d+) (OK|NO|BAD)\b(.*)$")


def send_one(ledger, target, user, tag):
    """One message to user through target, at once: (code, text) of the
    reply that ended it (250 once accepted, recorded in the ledger)."""
    msgid, frm = f"<{tag}@{DOMAIN}>", f"probe@{DOMAIN}"
    with ledger.lock:
        ledger.tried.add(msgid)
    try:
        with smtplib.SMTP(target.host, target.smtp_port,
                          timeout=CLIENT_TIMEOUT) as s:
            s.sendmail(frm, [user], message(msgid, frm, user, tag))
    except smtplib.SMTPRecipientsRefused as e:
        code, text = e.recipients[user]
        return code, text.decode(errors="replace")
    except smtplib.SMTPResponseException as e:
        return e.smtp_code, e.smtp_error.decode(errors="replace")
    ledger.ack(msgid, user=user, kind="smtp", via=target.id, t=time.time(),
               uidv=None, uid=None)
    return 250, ""


class SmtpProbe:
    """One message to user through target: open() gets to DATA's 354,
    send() writes the message and its final dot, answer() waits for the
    reply: (code, text)."""

    def __init__(self, ledger, target, user, tag):
        self.ledger, self.t, self.user = ledger, target, user
        self.msgid = f"<{tag}@{DOMAIN}>"
        self.frm = f"probe@{DOMAIN}"
        self.s = None

    def open(self):
        self.s = smtplib.SMTP(self.t.host, self.t.smtp_port,
                              timeout=CLIENT_TIMEOUT * 2)
        self.s.ehlo("probe.faults.test")
        code, _ = self.s.mail(self.frm)
        assert code == 250, code
        code, msg = self.s.rcpt(self.user)
        assert code == 250, (code, msg)
        self.s.putcmd("data")
        code, msg = self.s.getreply()
        assert code == 354, (code, msg)
        return self

    def send(self):
        body = message(self.msgid, self.frm, self.user, "probe")
        with self.ledger.lock:
            self.ledger.tried.add(self.msgid)
        self.s.send(body.encode() + b"\r\n.\r\n")

    def answer(self):
        try:
            code, msg = self.s.getreply()
        except (smtplib.SMTPException, OSError) as e:
            return None, repr(e)
        finally:
            self.s.close()
        if code == 250:
            self.ledger.ack(self.msgid, user=self.user, kind="smtp",
                            via=self.t.id, t=time.time(), uidv=None,
                            uid=None)
        return code, msg.decode(errors="replace")


class ImapSession:
    """A raw IMAP session logged in as user with INBOX selected (imaplib
    has neither LITERAL+ nor a way to send a command without waiting)."""

    def __init__(self, target, user):
        self.t, self.user = target, user
        self.sock = socket.create_connection((target.host, target.imap_port),
                                             timeout=CLIENT_TIMEOUT * 2)
        self.f = self.sock.makefile("rb")
        self.n = 0
        self.f.readline()
        typ, text = self.command(f"LOGIN {user} {PASSWORD}")
        assert typ == b"OK", text
        typ, text = self.command("SELECT INBOX")
        self.selected = typ == b"OK"
        self.select_answer = text

    def send(self, line, literal=None):
        """Sends a tagged command (with literal as a LITERAL+ literal);
        returns its tag."""
        self.n += 1
        tag = f"a{self.n}"
        if literal is None:
            self.sock.sendall(f"{tag} {line}\r\n".encode())
        else:
            self.sock.sendall(f"{tag} {line} {{{len(literal)}+}}\r\n"
                              .encode() + literal + b"\r\n")
        return tag

    def answer(self, tag):
        """(OK/NO/BAD, the tagged line, the untagged lines before it)."""
        untagged = []
        while True:
            ln = self.f.readline()
            if not ln:
                return None, b"connection closed", untagged
            m = TAGGED_RE.match(ln.rstrip(b"\r\n"))
            if m and f"a{m.group(1).decode()}" == tag:
                return m.group(2), ln.rstrip(b"\r\n"), untagged
            untagged.append(ln.rstrip(b"\r\n"))

    def command(self, line):
        typ, text, _ = self.answer(self.send(line))
        return typ, text

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class AppendProbe:
    """One APPEND to user's INBOX through target: open() logs in,
    send() writes the whole command (LITERAL+: no continuation needed),
    answer() waits for the tagged reply: (OK/NO/BAD, line), ("BYE",
    line) when the session was ended instead, else (None, why)."""

    def __init__(self, ledger, target, user, tag):
        self.ledger, self.t, self.user = ledger, target, user
        self.msgid = f"<{tag}@{DOMAIN}>"
        self.imap = None
        self.tag = None

    def open(self):
        self.imap = ImapSession(self.t, self.user)
        assert self.imap.selected, self.imap.select_answer
        return self

    def send(self):
        body = message(self.msgid, f"appender@{DOMAIN}", self.user, "probe")
        with self.ledger.lock:
            self.ledger.tried.add(self.msgid)
        self.tag = self.imap.send("APPEND INBOX", body.encode())

    def answer(self):
        try:
            typ, line, untagged = self.imap.answer(self.tag)
        except OSError as e:
            return None, repr(e)
        finally:
            self.imap.close()
        bye = [u for u in untagged if u.startswith(b"* BYE")]
        if typ is None and bye:
            return "BYE", bye[-1].decode(errors="replace")
        mu = APPENDUID_RE.search(line)
        if typ == b"OK" and mu is not None:
            uidv, uid = int(mu.group(1)), int(mu.group(2))
            self.ledger.ack(self.msgid, user=self.user, kind="append",
                            via=self.t.id, t=time.time(), uidv=uidv, uid=uid)
            self.ledger.saw(self.user, uidv, uid, self.msgid)
        return (typ.decode() if typ else None,
                line.decode(errors="replace"))
