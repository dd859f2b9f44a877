/**
 * @file splite_blob.c
 * @brief Writes and reads SpatiaLite geometry BLOBs for Points and LineStrings in C.
 *
 * Building the BLOB here instead of calling MakePoint()/GeomFromText() per row keeps
 * SQL function calls out of the insert path (the bulk-ingest requirement). Layout
 * (SpatiaLite "BLOB-Geometry", little-endian as written here):
 *   0x00 | endian 0x01 | SRID int32 | MBR minx miny maxx maxy (4 doubles) | 0x7C |
 *   class int32 (1 Point, 2 LineString) | [npoints int32] | x y doubles ... | 0xFE
 * The reader also accepts big-endian BLOBs (endian byte 0x00) and the TinyPoint form
 * (0x00 | 0x81/0x80 | SRID int32 | type byte 1 | x y | 0xFE) other tools may write.
 */
#include "sqlite_internal.h"

#include <math.h>
#include <string.h>

#define BLOB_START 0x00
#define BLOB_MBR_END 0x7C
#define BLOB_END 0xFE
#define BLOB_LE 0x01
#define BLOB_BE 0x00
#define TINY_LE 0x81
#define TINY_BE 0x80
#define CLASS_POINT 1
#define CLASS_LINESTRING 2
#define SRID_WGS84 4326
/* Offsets of the fixed part. */
#define OFF_SRID 2
#define OFF_MBR 6
#define OFF_MBR_END 38
#define OFF_CLASS 39
#define OFF_BODY 43

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p, bool le)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[le ? i : 3 - i] << (8 * i);
    return v;
}

static double get_f64(const unsigned char *p, bool le)
{
    uint64_t v = 0;
    double d;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[le ? i : 7 - i] << (8 * i);
    memcpy(&d, &v, sizeof d);
    return d;
}

size_t bt__splite_blob_size(size_t n)
{
    return n == 1 ? (size_t)OFF_BODY + 16 + 1 : (size_t)OFF_BODY + 4 + 16 * n + 1;
}

void bt__splite_encode(unsigned char *buf, const bt_lonlat *pts, size_t n)
{
    double minx = pts[0].lon, maxx = pts[0].lon, miny = pts[0].lat, maxy = pts[0].lat;
    for (size_t i = 1; i < n; i++) {
        minx = fmin(minx, pts[i].lon);
        maxx = fmax(maxx, pts[i].lon);
        miny = fmin(miny, pts[i].lat);
        maxy = fmax(maxy, pts[i].lat);
    }
    buf[0] = BLOB_START;
    buf[1] = BLOB_LE;
    put_u32(buf + OFF_SRID, SRID_WGS84);
    put_f64(buf + OFF_MBR, minx);
    put_f64(buf + OFF_MBR + 8, miny);
    put_f64(buf + OFF_MBR + 16, maxx);
    put_f64(buf + OFF_MBR + 24, maxy);
    buf[OFF_MBR_END] = BLOB_MBR_END;
    unsigned char *p = buf + OFF_BODY;
    if (n == 1) {
        put_u32(buf + OFF_CLASS, CLASS_POINT);
    } else {
        put_u32(buf + OFF_CLASS, CLASS_LINESTRING);
        put_u32(p, (uint32_t)n);
        p += 4;
    }
    for (size_t i = 0; i < n; i++, p += 16) {
        put_f64(p, pts[i].lon);
        put_f64(p + 8, pts[i].lat);
    }
    *p = BLOB_END;
}

static int bad_blob(bt_store *s, const char *what, const char *why)
{
    return bt__error(s, BT_ERR_INTERNAL, "%s: stored geometry is not usable: %s", what, why);
}

static int check_point(bt_store *s, const char *what, double x, double y)
{
    if (!isfinite(x) || !isfinite(y) || x < -180.0 || x > 180.0 || y < -90.0 || y > 90.0)
        return bad_blob(s, what, "coordinate out of range");
    return BT_OK;
}

int bt__splite_decode(bt_store *s, const char *what, const void *blob, size_t len,
                      bt_lonlat *dst, size_t cap, size_t *npoints, bool *is_line)
{
    const unsigned char *b = blob;
    if (!b || len < 24 || b[0] != BLOB_START || b[len - 1] != BLOB_END)
        return bad_blob(s, what, "not a SpatiaLite geometry");

    if (b[1] == TINY_LE || b[1] == TINY_BE) {
        bool le = b[1] == TINY_LE;
        if (len != 24 || b[6] != CLASS_POINT)
            return bad_blob(s, what, "TinyPoint of an unsupported type");
        if (get_u32(b + OFF_SRID, le) != SRID_WGS84) return bad_blob(s, what, "SRID is not 4326");
        double x = get_f64(b + 7, le), y = get_f64(b + 15, le);
        int rc = check_point(s, what, x, y);
        if (rc) return rc;
        if (dst && cap >= 1) dst[0] = (bt_lonlat){x, y};
        *npoints = 1;
        *is_line = false;
        return BT_OK;
    }

    if ((b[1] != BLOB_LE && b[1] != BLOB_BE) || len < (size_t)OFF_BODY + 17 ||
        b[OFF_MBR_END] != BLOB_MBR_END)
        return bad_blob(s, what, "not a SpatiaLite geometry");
    bool le = b[1] == BLOB_LE;
    if (get_u32(b + OFF_SRID, le) != SRID_WGS84) return bad_blob(s, what, "SRID is not 4326");
    uint32_t cls = get_u32(b + OFF_CLASS, le);
    const unsigned char *p = b + OFF_BODY;
    size_t n;
    if (cls == CLASS_POINT) {
        if (len != bt__splite_blob_size(1)) return bad_blob(s, what, "bad Point length");
        n = 1;
    } else if (cls == CLASS_LINESTRING) {
        uint32_t cnt = get_u32(p, le);
        p += 4;
        /* Compare counts, not sizes, so that a huge count cannot overflow. */
        if (cnt < 2 || (len - (size_t)OFF_BODY - 5) / 16 != cnt ||
            (len - (size_t)OFF_BODY - 5) % 16 != 0)
            return bad_blob(s, what, "bad LineString length");
        n = cnt;
    } else {
        return bad_blob(s, what, "geometry class is neither Point nor LineString");
    }
    for (size_t i = 0; i < n; i++, p += 16) {
        double x = get_f64(p, le), y = get_f64(p + 8, le);
        int rc = check_point(s, what, x, y);
        if (rc) return rc;
        if (dst && i < cap) dst[i] = (bt_lonlat){x, y};
    }
    *npoints = n;
    *is_line = cls == CLASS_LINESTRING;
    return BT_OK;
}
