/**
 * @file import_bench.c
 * @brief Import throughput and peak memory against raw SQLite inserts of the same rows,
 * measured in the same run (docs/PERFORMANCE.md, "Import").
 *
 * For each N it writes a deterministic GeoJSON FeatureCollection of N incidents (no
 * sources: the rows are what a spreadsheet of reports holds), then, each in a fresh
 * child process so that the peak resident size (ru_maxrss) belongs to that job alone:
 *  - `bt_import_file` into a new store (one transaction, spatial index included);
 *  - the baseline: raw SQLite inserts of the same rows (ref, type, lon, lat, start, end,
 *    summary) into a plain table in one transaction with one prepared statement, the
 *    rows generated in memory (no parsing, no geometry, no index).
 * The ratio import/raw is what issue 3 asks to be at least 0.5.
 *
 * Usage: import_bench [DIR] [N,N,...]   (defaults: $TMPDIR or /tmp, 100000,1000000)
 */
#define _POSIX_C_SOURCE 200809L
#include <bordertrack.h>
#include <sqlite3.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const types[] = {"smuggling", "river_crossing", "crossing_attempt",
                                    "arrest", "defection", "shooting"};

/* One incident, the same for the file and the raw baseline (a linear congruential
 * generator seeded by i keeps both sides identical without shared state). */
struct row {
    char ref[24];
    const char *type;
    double lon, lat;
    int64_t start;
};

static void make_row(long i, struct row *r)
{
    uint64_t x = (uint64_t)i * 6364136223846793005u + 1442695040888963407u;
    x ^= x >> 29;
    snprintf(r->ref, sizeof r->ref, "B-%08ld", i);
    r->type = types[x % 6];
    r->lon = 124.5 + (double)((x >> 8) % 6000000) / 1e6;   /* 124.5..130.5 E */
    r->lat = 40.0 + (double)((x >> 30) % 2800000) / 1e6;   /* 40.0..42.8 N */
    r->start = INT64_C(1546300800) + (int64_t)((x >> 40) % 189216000); /* 2019..2024 */
}

static int write_file(const char *path, long n)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs("{\"type\":\"FeatureCollection\",\"features\":[\n", f);
    for (long i = 0; i < n; i++) {
        struct row r;
        make_row(i, &r);
        char day[16];
        bt_time_format(r.start, BT_TIME_DAY, day, sizeof day);
        fprintf(f,
                "%s{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                "[%.6f,%.6f]},\"properties\":{\"ref\":\"%s\",\"type\":\"%s\",\"start\":\"%s\","
                "\"time_precision\":\"day\",\"summary\":\"benchmark row\"}}\n",
                i ? "," : "", r.lon, r.lat, r.ref, r.type, day);
    }
    fputs("]}\n", f);
    return fclose(f);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Child jobs: print "seconds peak_kib" on the pipe. */
static int job_import(const char *dir, const char *file, long n)
{
    char db[1024];
    snprintf(db, sizeof db, "%s/import_bench_%ld.db", dir, n);
    unlink(db);
    bt_store *s = NULL;
    char *err = NULL;
    if (bt_store_open(db, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, &err) != BT_OK) {
        fprintf(stderr, "open: %s\n", err ? err : "?");
        return 1;
    }
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_INCIDENTS;
    bt_import_report rep;
    double t0 = now();
    int rc = bt_import_file(s, file, &o, &rep);
    double t1 = now();
    if (rc != BT_OK || rep.added != n) {
        fprintf(stderr, "import: %s (%ld added)\n", bt_store_errmsg(s), rep.added);
        return 1;
    }
    bt_store_close(s);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.3f %ld\n", t1 - t0, ru.ru_maxrss);
    unlink(db);
    return 0;
}

static int job_raw(const char *dir, long n)
{
    char db[1024];
    snprintf(db, sizeof db, "%s/import_bench_raw_%ld.db", dir, n);
    unlink(db);
    sqlite3 *h = NULL;
    if (sqlite3_open(db, &h) != SQLITE_OK) return 1;
    sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    "CREATE TABLE incidents(id INTEGER PRIMARY KEY, ref TEXT UNIQUE, type TEXT,"
                    " lon REAL, lat REAL, start_t INTEGER, end_t INTEGER, summary TEXT)",
                 NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO incidents(ref,type,lon,lat,start_t,end_t,summary)"
                              " VALUES (?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
        return 1;
    double t0 = now();
    sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
    for (long i = 0; i < n; i++) {
        struct row r;
        make_row(i, &r);
        sqlite3_bind_text(st, 1, r.ref, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r.type, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, r.lon);
        sqlite3_bind_double(st, 4, r.lat);
        sqlite3_bind_int64(st, 5, r.start);
        sqlite3_bind_int64(st, 6, r.start + 86399);
        sqlite3_bind_text(st, 7, "benchmark row", -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) return 1;
        sqlite3_reset(st);
    }
    int rc = sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    double t1 = now();
    sqlite3_finalize(st);
    sqlite3_close(h);
    if (rc != SQLITE_OK) return 1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.3f %ld\n", t1 - t0, ru.ru_maxrss);
    unlink(db);
    return 0;
}

/* Runs a job in a child and reads its "seconds peak_kib" line. */
static int run_child(int (*job)(const char *, const char *, long), const char *dir,
                     const char *file, long n, double *secs, long *kib)
{
    int fd[2];
    if (pipe(fd) != 0) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], STDOUT_FILENO);
        int rc = job(dir, file, n);
        fflush(stdout); /* _exit does not flush stdio */
        _exit(rc);
    }
    close(fd[1]);
    char buf[128] = {0};
    ssize_t got = read(fd[0], buf, sizeof buf - 1);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    return sscanf(buf, "%lf %ld", secs, kib) == 2 ? 0 : -1;
}

static int raw_adapter(const char *dir, const char *file, long n)
{
    (void)file;
    return job_raw(dir, n);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    const char *sizes = argc > 2 ? argv[2] : "100000,1000000";
    printf("%10s %12s %10s %12s %10s %12s %8s\n", "N", "file MB", "import s", "import/s",
           "raw s", "raw/s", "ratio");
    printf("%10s %12s %10s %12s %10s %12s %8s\n", "", "", "peak MiB", "", "peak MiB", "", "");
    for (const char *p = sizes; *p;) {
        long n = strtol(p, (char **)&p, 10);
        if (*p == ',') p++;
        if (n <= 0) continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/import_bench_%ld.geojson", dir, n);
        if (write_file(file, n) != 0) {
            fprintf(stderr, "cannot write %s\n", file);
            return 1;
        }
        double mb = 0;
        FILE *f = fopen(file, "rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            mb = (double)ftell(f) / 1e6;
            fclose(f);
        }
        double ti = 0, tr = 0;
        long ki = 0, kr = 0;
        if (run_child(job_import, dir, file, n, &ti, &ki) != 0 ||
            run_child(raw_adapter, dir, file, n, &tr, &kr) != 0) {
            fprintf(stderr, "a job failed at N = %ld\n", n);
            unlink(file);
            return 1;
        }
        unlink(file);
        printf("%10ld %12.1f %10.2f %12.0f %10.2f %12.0f %8.2f\n", n, mb, ti,
               (double)n / ti, tr, (double)n / tr, ((double)n / ti) / ((double)n / tr));
        printf("%10s %12s %10.1f %12s %10.1f %12s %8s\n", "", "", (double)ki / 1024.0, "",
               (double)kr / 1024.0, "", "");
    }
    return 0;
}
