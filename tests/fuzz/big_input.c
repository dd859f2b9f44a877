/**
 * @file big_input.c
 * @brief The very large inputs of docs/ROBUSTNESS.md, run by hand (too slow and too
 * big for the suite): writes a GeoJSON sequence file holding one huge feature, imports
 * it into a new store with bt_import_file and prints the status, message and time.
 *   bt_big_input line N STORE    one incident whose summary is N bytes on one line
 *   bt_big_input verts N STORE   one border LineString of N vertices
 * Run it under `/usr/bin/time -f "maxrss %M KB"` for the peak memory.
 */
#define _DEFAULT_SOURCE /* unlink */
#include "bordertrack.h"
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
int main(int argc, char **argv){
  if (argc < 4) return 2;
  long n = atol(argv[2]);
  char path[4200]; snprintf(path, sizeof path, "%s.%s.geojsonl", argv[3], argv[1]);
  FILE *fp = fopen(path, "wb");
  bt_import_options o; bt_import_options_init(&o); o.format = BT_FORMAT_GEOJSONSEQ;
  if (!strcmp(argv[1], "line")) {
    fprintf(fp, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.3]},\"properties\":{\"ref\":\"L\",\"type\":\"other\",\"start\":\"2020\",\"summary\":\"");
    char buf[65536]; memset(buf, 'x', sizeof buf);
    for (long i = 0; i < n; i += (long)sizeof buf) fwrite(buf, 1, (size_t)(n - i < (long)sizeof buf ? n - i : (long)sizeof buf), fp);
    fprintf(fp, "\"}}\n");
  } else {
    fprintf(fp, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[");
    for (long i = 0; i < n; i++) fprintf(fp, "%s[%.6f,%.6f]", i ? "," : "", 124.0 + (double)(i % 7000000) * 1e-6, 40.0 + (double)(i % 1000) * 1e-5);
    fprintf(fp, "]},\"properties\":{\"border\":\"PRK-CHN\",\"name\":\"V\"}}\n");
    o.table = BT_TABLE_BORDERS;
  }
  fclose(fp);
  bt_store *s; unlink(argv[3]);
  if (bt_store_open(argv[3], BT_OPEN_READWRITE|BT_OPEN_CREATE, &s, NULL)) return 3;
  struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
  bt_import_report rep;
  int rc = bt_import_file(s, path, &o, &rep);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%s %ld: rc %d (%s) %s; added %ld; %.1f s\n", argv[1], n, rc, bt_strerror(rc), bt_store_errmsg(s), rep.added, (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
  bt_store_close(s); unlink(path); return 0; }
