/* sync_probe.c: what one durable write costs on this machine's disk, three
 * ways. A store that answers 250 only after its log is synced waits this
 * long per commit, so it bounds what any syncing SMTP server does here:
 *
 *   append     write() at the end of the file + fdatasync(): what RocksDB's
 *              WAL does. The file grows, so the sync also writes the inode
 *              (on ext4 without a journal that is a second, dependent I/O).
 *   overwrite  the same into blocks written before + fdatasync(): the
 *              size does not change, the sync writes only the data.
 *   direct     O_DIRECT|O_DSYNC pwrite() into blocks written before: one
 *              device write per commit, no page cache.
 *
 * usage: sync_probe [--dir DIR] [--count N] [SIZE...]
 *   DIR defaults to /var/tmp (where the benchmarks keep their data), N to
 *   2000 commits per mode, SIZE (octets, rounded up to 4 KiB) to
 *   4096 16384 49152 (a group of ~10 deliveries of 4 KiB is ~48 KiB).
 * Prints one line per size and mode: mean, p50, p99 and max in ms. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROBE_ALIGN 4096

enum probe_mode { PROBE_APPEND, PROBE_OVERWRITE, PROBE_DIRECT };

static const char *const probe_mode_name[] = { "append", "overwrite",
	                                       "direct" };

static double
probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
probe_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Writes count * size octets of buf to fd from offset 0 and syncs them:
 * the blocks the overwrite and direct modes then write into. */
static int
probe_prefill(int fd, const char *buf, size_t size, int count)
{
	for (int i = 0; i < count; i++)
		if (pwrite(fd, buf, size, (off_t)i * (off_t)size) !=
		    (ssize_t)size)
			return -1;
	return fsync(fd);
}

/* One mode at one size: count commits, their times into ms (sorted).
 * Returns 0, or -1 with errno set. */
static int
probe_run(const char *path, enum probe_mode mode, const char *buf,
          size_t size, int count, double *ms)
{
	int flags = O_RDWR | O_CREAT | O_TRUNC;
	int fd, rc = -1;

	fd = open(path, flags, 0600);
	if (fd < 0)
		return -1;
	if (mode != PROBE_APPEND && probe_prefill(fd, buf, size, count) != 0)
		goto out;
	if (mode == PROBE_DIRECT) {
		close(fd);
		fd = open(path, O_RDWR | O_DIRECT | O_DSYNC);
		if (fd < 0)
			return -1;
	}
	for (int i = 0; i < count; i++) {
		double t0 = probe_now_ms();

		if (pwrite(fd, buf, size, (off_t)i * (off_t)size) !=
		    (ssize_t)size)
			goto out;
		if (mode != PROBE_DIRECT && fdatasync(fd) != 0)
			goto out;
		ms[i] = probe_now_ms() - t0;
	}
	qsort(ms, (size_t)count, sizeof(*ms), probe_cmp);
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Runs one mode at one size and prints its line. Returns 0, or 1 after
 * saying why on stderr. */
static int
probe_report(const char *path, enum probe_mode mode, const char *buf,
             size_t size, int count, double *ms)
{
	double sum = 0;

	if (probe_run(path, mode, buf, size, count, ms) != 0) {
		fprintf(stderr, "sync_probe: %s: %s: %s\n", path,
		        probe_mode_name[mode], strerror(errno));
		return 1;
	}
	for (int i = 0; i < count; i++)
		sum += ms[i];
	printf("%7zu octets  %-9s  mean %.3f  p50 %.3f  p99 %.3f  "
	       "max %.2f ms\n",
	       size, probe_mode_name[mode], sum / count, ms[count / 2],
	       ms[count * 99 / 100], ms[count - 1]);
	return 0;
}

int
main(int argc, char **argv)
{
	static const size_t default_sizes[] = { 4096, 16384, 49152 };
	const char *dir = "/var/tmp";
	size_t sizes[16];
	int nsizes = 0, count = 2000;
	char path[4096];
	char *buf = NULL;
	double *ms;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			count = atoi(argv[++i]);
		} else if (argv[i][0] != '-' && nsizes < 16) {
			long v = atol(argv[i]);

			if (v <= 0 || v > (1L << 24))
				goto usage;
			sizes[nsizes++] = ((size_t)v + PROBE_ALIGN - 1) /
			                  PROBE_ALIGN * PROBE_ALIGN;
		} else {
			goto usage;
		}
	}
	if (count < 10 || count > 1000000)
		goto usage;
	if (nsizes == 0) {
		memcpy(sizes, default_sizes, sizeof(default_sizes));
		nsizes = 3;
	}
	snprintf(path, sizeof(path), "%s/sync_probe.%ld", dir, (long)getpid());
	ms = calloc((size_t)count, sizeof(*ms));
	for (int s = 0; ms != NULL && s < nsizes && rc == 0; s++) {
		free(buf);
		buf = NULL;
		if (posix_memalign((void **)&buf, PROBE_ALIGN, sizes[s]) != 0) {
			buf = NULL;
			break;
		}
		memset(buf, 'x', sizes[s]);
		for (int m = PROBE_APPEND; m <= PROBE_DIRECT && rc == 0; m++)
			rc = probe_report(path, (enum probe_mode)m, buf,
			                  sizes[s], count, ms);
	}
	if (ms == NULL || buf == NULL) {
		fprintf(stderr, "sync_probe: out of memory\n");
		rc = 1;
	}
	unlink(path);
	free(buf);
	free(ms);
	return rc;
usage:
	fprintf(stderr, "usage: sync_probe [--dir DIR] [--count N] "
	                "[SIZE...]\n");
	return 2;
}
