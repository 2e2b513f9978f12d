/* What one synced LMDB commit costs on this disk, by what it touches (README "Performance", W3 --sync full).
 *
 *   cc -O2 -o /tmp/lmdb_commit_cost tools/probes/lmdb_commit_cost.c -llmdb && /tmp/lmdb_commit_cost [commits] [rounds]
 *
 * Each commit puts one 200-byte record under the next big-endian seq (MDB_APPEND), as the journal's `events`
 * database does, and then optionally one index entry: in a second database (`by_workflow`'s shape), or in the
 * same database under a 0xFF-prefixed key. Prints commits/s and the p50/p99 of a commit, and does the same with
 * MDB_WRITEMAP for the one-database case, and with MDB_NOMETASYNC (the meta page is only written, and the next
 * commit's fdatasync carries it: what the daemon's --sync full does, README "Durability"). Default flags otherwise,
 * so every commit syncs (fdatasync of the data pages, then the meta page through LMDB's O_DSYNC descriptor). It
 * writes under /tmp/lmdb-commit-cost. */
#define _GNU_SOURCE
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum index_mode { NO_INDEX, SECOND_DATABASE, SAME_DATABASE };

static int run(const char *dir, enum index_mode mode, unsigned flags, int n) {
    char command[256];
    snprintf(command, sizeof command, "rm -rf %s && mkdir -p %s", dir, dir);
    if (system(command) != 0) return 1;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi events, index;
    mdb_env_create(&env);
    mdb_env_set_mapsize(env, 1UL << 30);
    mdb_env_set_maxdbs(env, 8);
    if (mdb_env_open(env, dir, MDB_NOTLS | flags, 0644) != 0) {
        fprintf(stderr, "mdb_env_open %s failed\n", dir);
        return 1;
    }
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, "events", MDB_CREATE, &events);
    mdb_dbi_open(txn, "by_workflow", MDB_CREATE, &index);
    mdb_txn_commit(txn);
    double *latency = malloc(n * sizeof(double));
    char value[200];
    memset(value, 7, sizeof value);
    double started = now();
    for (unsigned long i = 1; i <= (unsigned long)n; i++) {
        double t0 = now();
        unsigned char seq[8];
        for (int j = 0; j < 8; j++) seq[j] = (unsigned char)(i >> (56 - 8 * j));
        mdb_txn_begin(env, NULL, 0, &txn);
        MDB_val key = {8, seq}, data = {sizeof value, value};
        mdb_put(txn, events, &key, &data, mode == SAME_DATABASE ? 0 : MDB_APPEND);
        if (mode != NO_INDEX) {
            unsigned char entry[17] = {0xFF, 'w', 'f', '0', '0', '0', '0', '0', '0'};
            memcpy(entry + 9, seq, 8);
            MDB_val entry_key = {17, entry}, empty = {0, ""};
            mdb_put(txn, mode == SAME_DATABASE ? events : index, &entry_key, &empty, 0);
        }
        mdb_txn_commit(txn);
        latency[i - 1] = now() - t0;
    }
    double elapsed = now() - started;
    qsort(latency, n, sizeof(double), by_value);
    static const char *names[] = {"record only", "record + index in a second database",
                                  "record + index in the same database"};
    printf("%-38s %-10s %6.0f commits/s  p50 %4.0f us  p99 %4.0f us\n", names[mode],
           flags & MDB_WRITEMAP ? "writemap" : flags & MDB_NOMETASYNC ? "nometasync" : "default", n / elapsed, latency[n / 2] * 1e6,
           latency[n * 99 / 100] * 1e6);
    free(latency);
    mdb_env_close(env);
    return 0;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 3000, rounds = argc > 2 ? atoi(argv[2]) : 2;
    const char *dir = "/tmp/lmdb-commit-cost";
    for (int r = 0; r < rounds; r++) {
        if (run(dir, NO_INDEX, 0, n) || run(dir, SECOND_DATABASE, 0, n) || run(dir, SAME_DATABASE, 0, n) ||
            run(dir, NO_INDEX, MDB_WRITEMAP, n) || run(dir, NO_INDEX, MDB_NOMETASYNC, n))
            return 1;
    }
    return 0;
}
