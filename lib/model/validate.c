/**
 * @file validate.c
 * @brief Checks a record before it is stored: reject what cannot be true.
 *
 * Every message names the record and the field, e.g.
 * "incident 'X-17': field 'lat' is 91; expected -90..90", so that an analyst loading
 * thousands of reports can find the bad one. Enumeration fields are plain ints in C,
 * so every one is range-checked too.
 */
#include "core/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

/* Long names are cut in messages so that the field stays visible. */
#define BT__LABEL_SIZE 160

/* A number in a message: as short as possible, but never rounded onto a valid value
 * (180.0000001 must not print as "180"). */
#define BT__NUM "%.15g"

/* Builds "<kind> '<name>'", or "<kind> <id>" without a name, or "<kind>" for a new
 * record without either. */
static void bt__label(char *buf, const char *kind, const char *name, int64_t id)
{
    /* a name that is not UTF-8 is not echoed: the message would not be UTF-8 either */
    if (name != NULL && name[0] != '\0' && bt__utf8_valid(name, NULL)) {
        /* cut at 100 bytes, but not inside a character */
        int n = 0;
        while (name[n] != '\0' && n < 100)
            n++;
        while (n > 0 && name[n] != '\0' && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
        snprintf(buf, BT__LABEL_SIZE, "%s '%.*s'", kind, n, name);
    } else if (id > 0) {
        snprintf(buf, BT__LABEL_SIZE, "%s %" PRId64, kind, id);
    } else {
        snprintf(buf, BT__LABEL_SIZE, "%s", kind);
    }
}

/* Every text field is UTF-8 (the API and GeoJSON say so, and SQLite, GEOS and the
 * exporters assume it). NULL is fine: optional fields may be absent. */
static int bt__check_text(bt_store *s, const char *what, const char *field, const char *t)
{
    size_t bad;
    if (t != NULL && !bt__utf8_valid(t, &bad))
        return bt__error(s, BT_ERR_INVALID, "%s: field '%s' is not valid UTF-8 (byte %zu)",
                         what, field, bad);
    return BT_OK;
}

static int bt__check_lonlat(bt_store *s, const char *what, const char *prefix,
                            bt_lonlat p)
{
    if (!isfinite(p.lon) || p.lon < -180.0 || p.lon > 180.0)
        return bt__error(s, BT_ERR_INVALID, "%s: field '%slon' is " BT__NUM
                         "; expected -180..180", what, prefix, p.lon);
    if (!isfinite(p.lat) || p.lat < -90.0 || p.lat > 90.0)
        return bt__error(s, BT_ERR_INVALID, "%s: field '%slat' is " BT__NUM
                         "; expected -90..90", what, prefix, p.lat);
    return BT_OK;
}

int bt__validate_lonlat(bt_store *s, const char *what, bt_lonlat p)
{
    return bt__check_lonlat(s, what != NULL ? what : "position", "", p);
}

/* Every vertex of a geometry, named "points[i].lon" in messages. */
static int bt__check_points(bt_store *s, const char *what, const bt_lonlat *pts, size_t n)
{
    if (n > 0 && pts == NULL)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'points' is NULL with npoints %zu",
                         what, n);
    for (size_t i = 0; i < n; i++) {
        char prefix[40];
        snprintf(prefix, sizeof prefix, "points[%zu].", i);
        int rc = bt__check_lonlat(s, what, prefix, pts[i]);
        if (rc != BT_OK)
            return rc;
    }
    return BT_OK;
}

static int bt__check_enum(bt_store *s, const char *what, const char *field, bt_enum which,
                          int value)
{
    if (bt_enum_name(which, value) != NULL)
        return BT_OK;
    int max = 0;
    while (bt_enum_name(which, max + 1) != NULL)
        max++;
    return bt__error(s, BT_ERR_INVALID, "%s: field '%s' is %d; expected 0..%d", what, field,
                     value, max);
}

static int bt__check_required(bt_store *s, const char *what, const char *field,
                              const char *text)
{
    if (text == NULL || text[0] == '\0')
        return bt__error(s, BT_ERR_INVALID, "%s: field '%s' is %s; a non-empty text is required",
                         what, field, text == NULL ? "NULL" : "empty");
    return BT_OK;
}

/* An optional unique key: NULL means none, and "" would be one more key that every
 * record without a ref would collide on. */
static int bt__check_optional_key(bt_store *s, const char *what, const char *field,
                              const char *text)
{
    if (text != NULL && text[0] == '\0')
        return bt__error(s, BT_ERR_INVALID, "%s: field '%s' is empty; expected NULL or a text",
                         what, field);
    return BT_OK;
}

/* The last second of the period a date names (e.g. 2020-07-31T23:59:59Z for a month);
 * the calendar logic stays in time.c. */
static int64_t bt__period_last(bt_date d)
{
    int64_t last = d.t;
    (void)bt__time_period(d.t, d.precision, NULL, &last);
    return last;
}

static int bt__check_date(bt_store *s, const char *what, const char *field, bt_date d)
{
    if (bt_enum_name(BT_ENUM_TIME_PRECISION, (int)d.precision) == NULL)
        return bt__error(s, BT_ERR_INVALID, "%s: field '%s.precision' is %d; expected 0..4",
                         what, field, (int)d.precision);
    if (d.precision == BT_TIME_NONE)
        return BT_OK; /* absent: t is ignored */
    int64_t first;
    if (!bt__time_period(d.t, d.precision, &first, NULL))
        return bt__error(s, BT_ERR_INVALID, "%s: field '%s' is %" PRId64
                         "; expected a time in the years 0000..9999", what, field, d.t);
    /* t is defined as the first second of the period: 2020-07-15 at month precision
     * would be ambiguous (formatted only for the message: this runs for every record) */
    if (first != d.t) {
        char buf[32];
        bt_time_format(d.t, d.precision, buf, sizeof buf);
        return bt__error(s, BT_ERR_INVALID, "%s: field '%s' is %" PRId64
                         "; expected the first second of %s (%" PRId64 ")", what, field,
                         d.t, buf, first);
    }
    return BT_OK;
}

/* An optional interval of two optional dates: the end period must not end before the
 * start period begins. */
static int bt__check_dates(bt_store *s, const char *what, bt_date start, bt_date end)
{
    int rc = bt__check_date(s, what, "start", start);
    if (rc == BT_OK)
        rc = bt__check_date(s, what, "end", end);
    if (rc != BT_OK)
        return rc;
    if (start.precision != BT_TIME_NONE && end.precision != BT_TIME_NONE &&
        bt__period_last(end) < start.t) {
        char a[32], b[32];
        bt_time_format(start.t, start.precision, a, sizeof a);
        bt_time_format(end.t, end.precision, b, sizeof b);
        return bt__error(s, BT_ERR_INVALID, "%s: field 'end' is %s; expected not before "
                         "start %s", what, b, a);
    }
    return BT_OK;
}

static int bt__check_time(bt_store *s, const char *what, const char *field, int64_t t)
{
    if (!bt__time_period(t, BT_TIME_SECOND, NULL, NULL))
        return bt__error(s, BT_ERR_INVALID, "%s: field '%s' is %" PRId64
                         "; expected a time in the years 0000..9999", what, field, t);
    return BT_OK;
}

int bt__validate_segment(bt_store *s, const bt_segment *seg)
{
    if (BT_NEVER(seg == NULL))
        return bt__error(s, BT_ERR_INVALID, "segment: NULL record");
    char what[BT__LABEL_SIZE];
    bt__label(what, "segment", seg->name, seg->id);
    int rc;
    if ((rc = bt__check_text(s, what, "border", seg->border)) != BT_OK ||
        (rc = bt__check_text(s, what, "name", seg->name)) != BT_OK ||
        (rc = bt__check_text(s, what, "river", seg->river)) != BT_OK ||
        (rc = bt__check_required(s, what, "border", seg->border)) != BT_OK ||
        (rc = bt__check_required(s, what, "name", seg->name)) != BT_OK ||
        (rc = bt__check_enum(s, what, "kind", BT_ENUM_SEGMENT_KIND, (int)seg->kind)) != BT_OK)
        return rc;
    if (seg->seq < 0)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'seq' is %d; expected >= 0", what,
                         seg->seq);
    if (seg->npoints < 2)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'npoints' is %zu; a line needs at "
                         "least 2 points", what, seg->npoints);
    return bt__check_points(s, what, seg->points, seg->npoints);
}

int bt__validate_installation(bt_store *s, const bt_installation *inst)
{
    if (BT_NEVER(inst == NULL))
        return bt__error(s, BT_ERR_INVALID, "installation: NULL record");
    char what[BT__LABEL_SIZE];
    bt__label(what, "installation", inst->ref, inst->id);
    int rc;
    if ((rc = bt__check_text(s, what, "ref", inst->ref)) != BT_OK ||
        (rc = bt__check_text(s, what, "post_material", inst->post_material)) != BT_OK ||
        (rc = bt__check_text(s, what, "condition", inst->condition)) != BT_OK ||
        (rc = bt__check_optional_key(s, what, "ref", inst->ref)) != BT_OK ||
        (rc = bt__check_enum(s, what, "kind", BT_ENUM_INSTALL_KIND, (int)inst->kind)) != BT_OK ||
        (rc = bt__check_enum(s, what, "layer", BT_ENUM_FENCE_LAYER, (int)inst->layer)) != BT_OK ||
        (rc = bt__check_enum(s, what, "material", BT_ENUM_MATERIAL, (int)inst->material)) != BT_OK ||
        (rc = bt__check_enum(s, what, "barbed", BT_ENUM_YESNO, (int)inst->barbed)) != BT_OK ||
        (rc = bt__check_enum(s, what, "electrified", BT_ENUM_YESNO, (int)inst->electrified)) != BT_OK ||
        (rc = bt__check_enum(s, what, "quality", BT_ENUM_QUALITY, (int)inst->quality)) != BT_OK ||
        (rc = bt__check_enum(s, what, "permanence", BT_ENUM_PERMANENCE, (int)inst->permanence)) != BT_OK ||
        (rc = bt__check_enum(s, what, "status", BT_ENUM_INSTALL_STATUS, (int)inst->status)) != BT_OK ||
        (rc = bt__check_enum(s, what, "observed_by", BT_ENUM_OBSERVATION, (int)inst->observed_by)) != BT_OK)
        return rc;
    /* NaN means unknown; infinity is not a height */
    if (!isnan(inst->height_m) && (!isfinite(inst->height_m) || inst->height_m < 0.0))
        return bt__error(s, BT_ERR_INVALID, "%s: field 'height_m' is " BT__NUM
                         "; expected >= 0, or NaN if unknown", what, inst->height_m);
    if ((rc = bt__check_dates(s, what, inst->start, inst->end)) != BT_OK)
        return rc;
    if (inst->source_id < 0)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'source_id' is %" PRId64
                         "; expected an id > 0, or 0 if none", what, inst->source_id);
    if (inst->credibility < 0 || inst->credibility > 6)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'credibility' is %d; expected 1..6, "
                         "or 0 if none", what, inst->credibility);
    if (inst->npoints == 0)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'npoints' is 0; expected a point or "
                         "a line", what);
    switch (inst->kind) {
    case BT_INSTALL_FENCE:
    case BT_INSTALL_WALL:
        if (inst->npoints < 2)
            return bt__error(s, BT_ERR_INVALID, "%s: field 'npoints' is %zu; a %s is a line "
                             "of at least 2 points", what, inst->npoints,
                             bt_enum_name(BT_ENUM_INSTALL_KIND, (int)inst->kind));
        break;
    case BT_INSTALL_GUARD_POST:
    case BT_INSTALL_WATCHTOWER:
    case BT_INSTALL_GATE:
    case BT_INSTALL_CAMERA:
        if (inst->npoints > 1)
            return bt__error(s, BT_ERR_INVALID, "%s: field 'npoints' is %zu; a %s is a single "
                             "point", what, inst->npoints,
                             bt_enum_name(BT_ENUM_INSTALL_KIND, (int)inst->kind));
        break;
    case BT_INSTALL_OTHER:
        break;
    }
    return bt__check_points(s, what, inst->points, inst->npoints);
}

static int bt__validate_incident_as(bt_store *s, const bt_incident *inc, const char *what);

int bt__validate_incident(bt_store *s, const bt_incident *inc)
{
    if (BT_NEVER(inc == NULL))
        return bt__error(s, BT_ERR_INVALID, "incident: NULL record");
    /* The label costs a snprintf per record (an import validates every row): check
     * without it, and only a record that fails is checked again to name it. The
     * checks have no effect but the message, so the second run fails the same way. */
    if (bt__validate_incident_as(s, inc, "") == BT_OK)
        return BT_OK;
    char what[BT__LABEL_SIZE];
    bt__label(what, "incident", inc->ref, inc->id);
    return bt__validate_incident_as(s, inc, what);
}

static int bt__validate_incident_as(bt_store *s, const bt_incident *inc, const char *what)
{
    int rc;
    if ((rc = bt__check_text(s, what, "ref", inc->ref)) != BT_OK ||
        (rc = bt__check_text(s, what, "summary", inc->summary)) != BT_OK ||
        (rc = bt__check_required(s, what, "ref", inc->ref)) != BT_OK ||
        (rc = bt__check_enum(s, what, "type", BT_ENUM_INCIDENT_TYPE, (int)inc->type)) != BT_OK ||
        (rc = bt__check_lonlat(s, what, "", inc->where)) != BT_OK)
        return rc;
    if (!isfinite(inc->uncertainty_m) || inc->uncertainty_m < 0.0)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'uncertainty_m' is " BT__NUM
                         "; expected >= 0", what, inc->uncertainty_m);
    if ((rc = bt__check_enum(s, what, "loc_precision", BT_ENUM_LOC_PRECISION,
                             (int)inc->loc_precision)) != BT_OK ||
        (rc = bt__check_enum(s, what, "time_precision", BT_ENUM_TIME_PRECISION,
                             (int)inc->time_precision)) != BT_OK)
        return rc;
    if (inc->time_precision == BT_TIME_NONE)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'time_precision' is none; expected "
                         "year, month, day or second", what);
    if ((rc = bt__check_time(s, what, "start", inc->start)) != BT_OK)
        return rc;
    if (inc->end != BT_TIME_OPEN) {
        if ((rc = bt__check_time(s, what, "end", inc->end)) != BT_OK)
            return rc;
        if (inc->end < inc->start) {
            char a[32], b[32];
            bt_time_format(inc->start, BT_TIME_SECOND, a, sizeof a);
            bt_time_format(inc->end, BT_TIME_SECOND, b, sizeof b);
            return bt__error(s, BT_ERR_INVALID, "%s: field 'end' is %s; expected not before "
                             "start %s", what, b, a);
        }
    }
    if ((rc = bt__check_date(s, what, "reported", inc->reported)) != BT_OK)
        return rc;
    return bt__check_enum(s, what, "verification", BT_ENUM_VERIFICATION,
                          (int)inc->verification);
}

int bt__validate_source(bt_store *s, const bt_source *src)
{
    if (BT_NEVER(src == NULL))
        return bt__error(s, BT_ERR_INVALID, "source: NULL record");
    /* A source is named by its id only: its name may identify a person, and messages
     * end up in logs. */
    char what[BT__LABEL_SIZE];
    bt__label(what, "source", NULL, src->id);
    int rc;
    if ((rc = bt__check_text(s, what, "name", src->name)) != BT_OK ||
        (rc = bt__check_text(s, what, "notes", src->notes)) != BT_OK ||
        (rc = bt__check_required(s, what, "name", src->name)) != BT_OK ||
        (rc = bt__check_enum(s, what, "type", BT_ENUM_SOURCE_TYPE, (int)src->type)) != BT_OK)
        return rc;
    if (src->reliability < 'A' || src->reliability > 'F') {
        const unsigned char c = (unsigned char)src->reliability;
        if (c >= 0x20 && c < 0x7f)
            return bt__error(s, BT_ERR_INVALID, "%s: field 'reliability' is '%c'; expected "
                             "'A'..'F'", what, src->reliability);
        return bt__error(s, BT_ERR_INVALID, "%s: field 'reliability' is byte %u; expected "
                         "'A'..'F'", what, (unsigned)c);
    }
    return BT_OK;
}

int bt__validate_link(bt_store *s, const bt_report_link *link)
{
    if (BT_NEVER(link == NULL))
        return bt__error(s, BT_ERR_INVALID, "link: NULL record");
    char what[BT__LABEL_SIZE];
    snprintf(what, sizeof what, "link incident %" PRId64 " / source %" PRId64,
             link->incident_id, link->source_id);
    if (link->incident_id <= 0)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'incident_id' is %" PRId64
                         "; expected an id > 0", what, link->incident_id);
    if (link->source_id <= 0)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'source_id' is %" PRId64
                         "; expected an id > 0", what, link->source_id);
    if (link->credibility < 1 || link->credibility > 6)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'credibility' is %d; expected 1..6",
                         what, link->credibility);
    return bt__check_date(s, what, "reported", link->reported);
}

int bt__validate_place(bt_store *s, const bt_place *place)
{
    if (BT_NEVER(place == NULL))
        return bt__error(s, BT_ERR_INVALID, "place: NULL record");
    char what[BT__LABEL_SIZE];
    bt__label(what, "place", place->name, place->id);
    int rc;
    if ((rc = bt__check_text(s, what, "name", place->name)) != BT_OK ||
        (rc = bt__check_text(s, what, "admin1", place->admin1)) != BT_OK ||
        (rc = bt__check_required(s, what, "name", place->name)) != BT_OK ||
        (rc = bt__check_required(s, what, "country", place->country)) != BT_OK)
        return rc;
    const char *c = place->country;
    if (!(c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && c[2] == '\0'))
        return bt__error(s, BT_ERR_INVALID, "%s: field 'country' is '%.16s'; expected two "
                         "upper-case letters (ISO 3166-1 alpha-2)", what, c);
    return bt__check_lonlat(s, what, "", place->where);
}

int bt__validate_intervention(bt_store *s, const bt_intervention *iv)
{
    if (BT_NEVER(iv == NULL))
        return bt__error(s, BT_ERR_INVALID, "intervention: NULL record");
    char what[BT__LABEL_SIZE];
    bt__label(what, "intervention", iv->ref != NULL && iv->ref[0] != '\0' ? iv->ref : iv->name,
              iv->id);
    int rc;
    if ((rc = bt__check_text(s, what, "ref", iv->ref)) != BT_OK ||
        (rc = bt__check_text(s, what, "name", iv->name)) != BT_OK ||
        (rc = bt__check_text(s, what, "summary", iv->summary)) != BT_OK ||
        (rc = bt__check_text(s, what, "citation", iv->citation)) != BT_OK ||
        (rc = bt__check_text(s, what, "border", iv->border)) != BT_OK ||
        (rc = bt__check_optional_key(s, what, "ref", iv->ref)) != BT_OK ||
        (rc = bt__check_required(s, what, "name", iv->name)) != BT_OK ||
        (rc = bt__check_enum(s, what, "kind", BT_ENUM_INTERVENTION_KIND, (int)iv->kind)) != BT_OK ||
        (rc = bt__check_dates(s, what, iv->start, iv->end)) != BT_OK)
        return rc;
    if (iv->start.precision == BT_TIME_NONE)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'start' is absent; an intervention "
                         "needs the date it took effect", what);
    /* exactly one target: a border (with a chainage range) or an area */
    const bool has_border = iv->border != NULL, has_area = iv->area != NULL || iv->narea > 0;
    if (has_border == has_area)
        return bt__error(s, BT_ERR_INVALID, "%s: fields 'border' and 'area' are %s; expected "
                         "exactly one", what, has_border ? "both given" : "both absent");
    if (has_border && iv->border[0] == '\0')
        return bt__error(s, BT_ERR_INVALID, "%s: field 'border' is empty; expected a border "
                         "name", what);
    /* NaN fails every comparison: test the accepted values, not the rejected ones */
    if (!(isfinite(iv->from_m) && iv->from_m >= 0.0))
        return bt__error(s, BT_ERR_INVALID, "%s: field 'from_m' is " BT__NUM
                         "; expected a finite chainage >= 0", what, iv->from_m);
    if (!(iv->to_m > iv->from_m))
        return bt__error(s, BT_ERR_INVALID, "%s: field 'to_m' is " BT__NUM
                         "; expected more than from_m " BT__NUM ", or INFINITY", what,
                         iv->to_m, iv->from_m);
    if (has_area) {
        if (iv->from_m != 0.0 || !isinf(iv->to_m))
            return bt__error(s, BT_ERR_INVALID, "%s: fields 'from_m', 'to_m' are " BT__NUM
                             ".." BT__NUM "; an area takes no chainage range (expected "
                             "0..inf)", what, iv->from_m, iv->to_m);
        if (iv->area == NULL)
            return bt__error(s, BT_ERR_INVALID, "%s: field 'area' is NULL with narea %zu",
                             what, iv->narea);
        if (iv->narea < 4)
            return bt__error(s, BT_ERR_INVALID, "%s: field 'narea' is %zu; a polygon ring "
                             "needs at least 4 vertices", what, iv->narea);
        for (size_t i = 0; i < iv->narea; i++) {
            char prefix[40];
            snprintf(prefix, sizeof prefix, "area[%zu].", i);
            if ((rc = bt__check_lonlat(s, what, prefix, iv->area[i])) != BT_OK)
                return rc;
        }
        const bt_lonlat a = iv->area[0], z = iv->area[iv->narea - 1];
        if (a.lon != z.lon || a.lat != z.lat)
            return bt__error(s, BT_ERR_INVALID, "%s: field 'area' is not closed: vertex 0 ("
                             BT__NUM " " BT__NUM ") differs from vertex %zu (" BT__NUM " "
                             BT__NUM ")", what, a.lon, a.lat, iv->narea - 1, z.lon, z.lat);
        /* twice the signed area (shoelace): a ring with none encloses nothing */
        double a2 = 0.0;
        for (size_t i = 0; i + 1 < iv->narea; i++)
            a2 += iv->area[i].lon * iv->area[i + 1].lat - iv->area[i + 1].lon * iv->area[i].lat;
        if (!(fabs(a2) > 0.0))
            return bt__error(s, BT_ERR_INVALID, "%s: field 'area' encloses no area", what);
    }
    return BT_OK;
}
