#!/usr/bin/python3
"""select_time.py: times SELECT of one mailbox over IMAP (RFC 9051), as a
client sees it: from sending the command to its tagged OK.

usage: select_time.py HOST PORT USER PASSWORD [RUNS] [MAILBOX]
Prints one line: messages, first, min, median and max in milliseconds.
Each run is a new session (LOGIN is not timed)."""
import imaplib
import sys
import time


def main():
    host, port, user, pw = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    mailbox = sys.argv[6] if len(sys.argv) > 6 else "INBOX"
    times, exists = [], None
    for _ in range(runs):
        m = imaplib.IMAP4(host, int(port))
        m.login(user, pw)
        t0 = time.perf_counter()
        typ, data = m.select(mailbox, readonly=True)
        times.append((time.perf_counter() - t0) * 1000)
        if typ != "OK":
            sys.exit(f"SELECT failed: {data}")
        exists = int(data[0])
        m.logout()
    first, s = times[0], sorted(times)
    print(f"messages {exists} first {first:.1f} ms min {s[0]:.1f} ms "
          f"median {s[len(s) // 2]:.1f} ms max {s[-1]:.1f} ms")


if __name__ == "__main__":
    main()
