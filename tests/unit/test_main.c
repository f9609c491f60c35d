/* test_main.c: runs unit tests. "unit --list" names them; "unit NAME…"
 * runs those; no argument runs all in this process. tests/run.sh runs each
 * in its own process so that a crash is counted once and ASan reports name
 * the test. Exit status: 0 all passed, 1 a failure. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/test.h"

static int test_failures;
static char test_dir[64];

struct test_entry {
	const char *name;
	void (*fn)(void);
};

static const struct test_entry tests[] = {
#define TEST(name) { #name, name },
#include "tests/unit/list.inc"
#undef TEST
};

void
test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	test_failures++;
}

static int
test_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void
test_cleanup(void)
{
	if (test_dir[0] != '\0')
		nftw(test_dir, test_rm, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
test_tmpdir(void)
{
	static char sub[96];
	static int seq;

	if (test_dir[0] == '\0') {
		snprintf(test_dir, sizeof(test_dir), "/tmp/roost-unit-XXXXXX");
		if (mkdtemp(test_dir) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(test_cleanup);
	}
	snprintf(sub, sizeof(sub), "%s/%d", test_dir, ++seq);
	if (mkdir(sub, 0700) != 0) {
		perror("mkdir");
		exit(2);
	}
	return sub;
}

static int
test_run(const struct test_entry *t)
{
	int before = test_failures;

	t->fn();
	printf("%s %s\n", test_failures == before ? "ok  " : "FAIL", t->name);
	return test_failures == before;
}

int
main(int argc, char **argv)
{
	size_t n = sizeof(tests) / sizeof(tests[0]);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc == 1) {
		for (size_t i = 0; i < n; i++)
			test_run(&tests[i]);
	}
	for (int a = 1; a < argc; a++) {
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(tests[i].name, argv[a]) == 0)
				break;
		if (i == n) {
			fprintf(stderr, "no such test: %s\n", argv[a]);
			return 2;
		}
		test_run(&tests[i]);
	}
	return test_failures == 0 ? 0 : 1;
}
