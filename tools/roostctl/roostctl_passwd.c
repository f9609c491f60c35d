/* roostctl_passwd.c: reads a password from stdin (--password-stdin) or
 * from the terminal with echo off. Reads byte by byte with read(2), so no
 * stdio buffer keeps a copy; does not send or store anything. */
#include "tools/roostctl/roostctl_passwd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* The terminal state to restore if a signal ends the process while echo
 * is off; the handler may only look at these two. */
static struct termios roostctl_passwd_saved;
static volatile sig_atomic_t roostctl_passwd_echo_off;

static const int roostctl_passwd_signals[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT,
};
#define ROOSTCTL_PASSWD_NSIG \
	(sizeof(roostctl_passwd_signals) / sizeof(roostctl_passwd_signals[0]))

/* Reads one line of fd into buf without its line end. 1: a line (possibly
 * empty); 0: end of input before any byte; RS_ETOOBIG: longer than
 * ROOSTCTL_PASSWD_MAX; RS_EIO: read failed (errno). */
static int
roostctl_passwd_line(int fd, char *buf, size_t size)
{
	size_t len = 0, max = size - 1 < ROOSTCTL_PASSWD_MAX
	                     ? size - 1 : ROOSTCTL_PASSWD_MAX;
	int rc = 0;
	char c = 0;

	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = RS_EIO;
			break;
		}
		if (n == 0)
			break;
		rc = 1;
		if (c == '\n')
			break;
		if (len == max) {
			rc = RS_ETOOBIG;
			break;
		}
		buf[len++] = c;
	}
	explicit_bzero(&c, sizeof(c));
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (rc < 0)
		explicit_bzero(buf, size);
	return rc;
}

int
roostctl_passwd_stdin(char *buf, size_t size, struct rs_err *err)
{
	int rc = roostctl_passwd_line(STDIN_FILENO, buf, size);

	switch (rc) {
	case 1:
		if (buf[0] == '\0')
			return rs_err_set(err, RS_EINVAL, "the password on "
			                  "stdin is empty");
		return 0;
	case 0:
		return rs_err_set(err, RS_EINVAL, "no password on stdin");
	case RS_ETOOBIG:
		return rs_err_set(err, RS_ETOOBIG, "the password on stdin is "
		                  "longer than %d bytes", ROOSTCTL_PASSWD_MAX);
	default:
		return rs_err_set(err, RS_EIO, "reading the password from "
		                  "stdin: %s", strerror(errno));
	}
}

bool
roostctl_passwd_can_prompt(void)
{
	return isatty(STDIN_FILENO) == 1;
}

static void
roostctl_passwd_on_signal(int sig)
{
	if (roostctl_passwd_echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &roostctl_passwd_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One question with echo off. */
static int
roostctl_passwd_ask(const char *prompt, char *buf, size_t size,
                    struct rs_err *err)
{
	struct sigaction sa, old[ROOSTCTL_PASSWD_NSIG];
	struct termios t;
	int rc, e;

	if (tcgetattr(STDIN_FILENO, &roostctl_passwd_saved) != 0)
		return rs_err_set(err, RS_EIO, "cannot turn off echo: %s",
		                  strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = roostctl_passwd_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ROOSTCTL_PASSWD_NSIG; i++) {
		/* A signal ignored by whoever started us stays ignored. */
		sigaction(roostctl_passwd_signals[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN)
			sigaction(roostctl_passwd_signals[i], &sa, NULL);
	}
	t = roostctl_passwd_saved;
	t.c_lflag &= ~(tcflag_t)ECHO;
	fputs(prompt, stderr);
	fflush(stderr);
	roostctl_passwd_echo_off = 1;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) != 0) {
		rc = RS_EIO;
	} else {
		rc = roostctl_passwd_line(STDIN_FILENO, buf, size);
	}
	e = errno;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &roostctl_passwd_saved);
	roostctl_passwd_echo_off = 0;
	for (size_t i = 0; i < ROOSTCTL_PASSWD_NSIG; i++)
		sigaction(roostctl_passwd_signals[i], &old[i], NULL);
	fputc('\n', stderr);                  /* the Enter was not echoed */
	if (rc == 1 && buf[0] != '\0')
		return 0;
	if (rc == 1)
		return rs_err_set(err, RS_EINVAL, "empty password");
	if (rc == 0)
		return rs_err_set(err, RS_EINVAL, "no password given");
	if (rc == RS_ETOOBIG)
		return rs_err_set(err, RS_ETOOBIG, "the password is longer "
		                  "than %d bytes", ROOSTCTL_PASSWD_MAX);
	return rs_err_set(err, RS_EIO, "reading the password: %s",
	                  strerror(e));
}

int
roostctl_passwd_prompt(char *buf, size_t size, struct rs_err *err)
{
	char again[ROOSTCTL_PASSWD_MAX + 1];
	int rc;

	rc = roostctl_passwd_ask("Password: ", buf, size, err);
	if (rc == 0)
		rc = roostctl_passwd_ask("Repeat: ", again, sizeof(again), err);
	if (rc == 0 && strcmp(buf, again) != 0)
		rc = rs_err_set(err, RS_EINVAL, "the passwords do not match");
	explicit_bzero(again, sizeof(again));
	if (rc != 0)
		explicit_bzero(buf, size);
	return rc;
}
