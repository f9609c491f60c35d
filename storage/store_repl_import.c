/* store_repl_import.c: a follower's copy of a whole partition, built as
 * one SST file and ingested at its end.
 *
 * Writing each copied chunk through the DB cost the returning node every
 * octet three times (WAL, memtable, flush to blob files and SSTs) on a
 * machine the primaries' exports keep busy too. Chunks arrive in key
 * order (one iterator over one snapshot, store_repl_export_next), which
 * is what RocksDB's SstFileWriter takes: the copy is written once, into
 * a file of the DB's directory, and handed to the DB whole at the END.
 *
 * The file starts with a range deletion of the whole partition. RocksDB
 * gives an ingested file one sequence number, and a range tombstone
 * covers only keys of lower numbers, so it drops what the follower held
 * before and none of the copy's own keys. Until the ingestion nothing of
 * the partition changes on disk; the ingestion replaces all of it at
 * once, its position key included (the END then writes the new one), so
 * a copy cut short by a crash leaves the old state, whole, and one cut
 * between the two leaves no position: either way the copy starts again.
 *
 * Writer thread only. */
#include "storage/store_repl_int.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"
#include "storage/store_health_int.h"
#include "storage/store_keys.h"

#define STORE_IMPORT_PREFIX "roost-import-"
#define STORE_IMPORT_SUFFIX ".sst"

/* A copy whose primary sent nothing for this long was given up (its
 * calls time out after seconds): its file goes. */
#define STORE_IMPORT_IDLE_MS (600 * 1000)

struct store_import {
	uint32_t                 part;
	char                    *path;    /* owns */
	rocksdb_sstfilewriter_t *w;       /* owns */
	uint64_t                 keys;
	uint64_t                 used;    /* rs_mono_ms of its last op */
	struct store_import     *next;
};

static char *
store_import_path(const struct store *st, uint32_t part)
{
	return rs_xasprintf("%s/" STORE_IMPORT_PREFIX "%u" STORE_IMPORT_SUFFIX,
	                    st->health.path, part);
}

static struct store_import **
store_import_find(struct store_rtxn *rt, uint32_t part)
{
	struct store_import **pp = &rt->imports;

	while (*pp != NULL && (*pp)->part != part)
		pp = &(*pp)->next;
	return pp;
}

static void
store_import_free(struct store_import *im)
{
	rocksdb_sstfilewriter_destroy(im->w);
	(void)unlink(im->path);
	free(im->path);
	free(im);
}

/* Forgets part's open copy, if any (its file goes). */
void
store__import_abort(struct store_txn *t, uint32_t part)
{
	struct store_import **pp = store_import_find(t->repl, part);
	struct store_import *im = *pp;

	if (im == NULL)
		return;
	*pp = im->next;
	store_import_free(im);
}

/* Forgets copies left idle (their primary failed or moved on), so that
 * their files do not hold the disk until the next restart. */
static void
store_import_expire(struct store_rtxn *rt, uint64_t now)
{
	struct store_import **pp = &rt->imports;

	while (*pp != NULL) {
		struct store_import *im = *pp;

		if (now - im->used < STORE_IMPORT_IDLE_MS) {
			pp = &im->next;
			continue;
		}
		rs_log(RS_LOG_INFO, "store.import_expired", "partition=%u",
		       im->part);
		*pp = im->next;
		store_import_free(im);
	}
}

/* The SstFileWriter's options: the DB's (comparator, table format)
 * without compression, since compactions rewrite the file anyway (its
 * message bodies go to blob files then) and compressing gigabytes of
 * mail on the way in would cost the machine more than the octets it
 * saves on a local disk. */
static rocksdb_options_t *
store_import_options(struct store *st)
{
	rocksdb_options_t *o = rocksdb_options_create_copy(st->dbopts);

	rocksdb_options_set_compression(o, rocksdb_no_compression);
	return o;
}

static int
store_import_fail(struct store_import *im, const char *what, char *e,
                  struct rs_err *err)
{
	rs_err_set(err, RS_EIO, "copy of partition %u: %s: %s", im->part, what,
	           e);
	free(e);
	return -1;
}

int
store__import_begin(struct store_txn *t, uint32_t part, struct rs_err *err)
{
	struct store_rtxn *rt = t->repl;
	struct store_import *im = rs_xcalloc(1, sizeof(*im));
	rocksdb_envoptions_t *eo = rocksdb_envoptions_create();
	rocksdb_options_t *o = store_import_options(t->st);
	uint8_t from[4], to[4];
	char *e = NULL;

	store__import_abort(t, part);
	im->used = rs_mono_ms();
	store_import_expire(rt, im->used);
	im->part = part;
	im->path = store_import_path(t->st, part);
	im->w = rocksdb_sstfilewriter_create(eo, o);
	rocksdb_envoptions_destroy(eo);
	rocksdb_options_destroy(o);
	rocksdb_sstfilewriter_open(im->w, im->path, &e);
	if (e == NULL) {
		store_keys_put32(from, part);
		store_keys_put32(to, part + 1);
		rocksdb_sstfilewriter_delete_range(im->w, (const char *)from,
		                                   sizeof(from),
		                                   (const char *)to,
		                                   sizeof(to), &e);
	}
	if (e != NULL) {
		int rc = store_import_fail(im, "open", e, err);

		store_import_free(im);
		return rc;
	}
	im->next = rt->imports;
	rt->imports = im;
	return 0;
}

struct store_import *
store__import_get(struct store_txn *t, uint32_t part)
{
	struct store_import *im = *store_import_find(t->repl, part);

	if (im != NULL)
		im->used = rs_mono_ms();
	return im;
}

bool
store__import_put(struct store_import *im, const char *k, size_t klen,
                  const char *v, size_t vlen)
{
	char *e = NULL;

	/* The writer refuses a key not above the last one: a chunk out of
	 * order is an error, not a reordering. */
	rocksdb_sstfilewriter_put(im->w, k, klen, v, vlen, &e);
	if (e != NULL) {
		rs_log(RS_LOG_WARN, "store.import_refused", "partition=%u "
		       "error=\"%s\"", im->part, e);
		free(e);
		return false;
	}
	im->keys++;
	return true;
}

int
store__import_end(struct store_txn *t, uint32_t part, struct rs_err *err)
{
	struct store *st = t->st;
	struct store_import **pp = store_import_find(t->repl, part);
	struct store_import *im = *pp;
	rocksdb_ingestexternalfileoptions_t *io;
	const char *files[1];
	char *e = NULL;
	int rc = 0;

	if (im == NULL)
		return rs_err_set(err, RS_ECONFLICT, "partition %u: no copy "
		                  "was begun", part);
	*pp = im->next;
	rocksdb_sstfilewriter_finish(im->w, &e);   /* syncs the file */
	if (e != NULL) {
		rc = store_import_fail(im, "finish", e, err);
		store_import_free(im);
		return rc;
	}
	io = rocksdb_ingestexternalfileoptions_create();
	/* A hard link into the DB, not a second copy of the file. */
	rocksdb_ingestexternalfileoptions_set_move_files(io, 1);
	files[0] = im->path;
	pthread_mutex_lock(&st->wal_mu);
	if (store__failed(st))
		e = rs_xstrdup("the store failed before");
	else if (store__fault(st, STORE_FAULT_WRITE))
		e = rs_xstrdup("injected fault (test)");
	else
		rocksdb_ingest_external_file(st->db, files, 1, io, &e);
	pthread_mutex_unlock(&st->wal_mu);
	rocksdb_ingestexternalfileoptions_destroy(io);
	/* An ingestion is all or nothing: one that failed changed nothing
	 * (RocksDB stops the DB itself if its MANIFEST could not be
	 * written), so the copy is refused and taken again. */
	if (e != NULL)
		rc = store_import_fail(im, "ingest", e, err);
	else
		rs_log(RS_LOG_INFO, "store.import_ingested", "partition=%u "
		       "keys=%llu", part, (unsigned long long)im->keys);
	store_import_free(im);
	return rc;
}

void
store__import_free_all(struct store_rtxn *rt)
{
	while (rt->imports != NULL) {
		struct store_import *im = rt->imports;

		rt->imports = im->next;
		store_import_free(im);
	}
}

void
store__import_sweep(struct store *st)
{
	DIR *d = opendir(st->health.path);
	struct dirent *de;
	size_t pl = strlen(STORE_IMPORT_PREFIX);

	if (d == NULL)
		return;
	/* Copies a crash cut short: nothing refers to them. */
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (strncmp(de->d_name, STORE_IMPORT_PREFIX, pl) != 0)
			continue;
		p = rs_xasprintf("%s/%s", st->health.path, de->d_name);
		(void)unlink(p);
		free(p);
	}
	closedir(d);
}
