/* maildir_count.c: prints how many messages the Maildirs under each ROOT
 * hold (files in ROOT/<user>/Maildir/new and cur). It is the --wait-stored
 * command of ref_postfix_dovecot.sh: run every 100 ms while Dovecot
 * delivers, it must cost little, and find(1) | wc costs ~35 ms of CPU at
 * 20,000 files where this costs a few. Counts names, opens no file. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Entries in dir that are not hidden (Maildir names never start with
 * '.'), or 0 when dir is missing. */
static uint64_t
maildir_count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static uint64_t
maildir_count_root(const char *root)
{
	static const char *const subdirs[] = { "new", "cur" };
	DIR *d = opendir(root);
	struct dirent *e;
	uint64_t n = 0;

	if (d == NULL) {
		fprintf(stderr, "maildir_count: cannot open %s\n", root);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];

		if (e->d_name[0] == '.')
			continue;
		for (size_t i = 0; i < 2; i++) {
			int len = snprintf(path, sizeof(path), "%s/%s/Maildir/%s",
			                   root, e->d_name, subdirs[i]);

			if (len > 0 && (size_t)len < sizeof(path))
				n += maildir_count_dir(path);
		}
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	uint64_t n = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(argc < 2 ? stderr : stdout,
		        "usage: maildir_count ROOT...\n"
		        "Prints the number of files in ROOT/*/Maildir/{new,cur}."
		        "\n");
		return argc < 2 ? 2 : 0;
	}
	for (int i = 1; i < argc; i++)
		n += maildir_count_root(argv[i]);
	printf("%llu\n", (unsigned long long)n);
	return 0;
}
