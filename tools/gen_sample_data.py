#!/usr/bin/env python3
"""Generate the Hyesan sample data set of bordertrack (examples/data/).

Writes installations_hyesan.geojson and incidents_hyesan.geojson next to
borders.geojson, deterministically (fixed seed, Python standard library only), so
that running it again gives byte-identical files. The build never runs it; its
output is committed. See examples/data/README.md for what is real and what is not.

Usage: python3 tools/gen_sample_data.py [examples/data]
"""

import json
import math
import os
import random
import sys

SEED = 20200729          # the date of the real report; any fixed value would do
OFFSET_M = 120.0         # fence line distance from the border, on the DPRK side
POST_SPACING_M = 500.0   # guard posts along the fence
SECTION_M = 2000.0       # length of one fence feature
WEST_LON = 128.05        # the stretch of border used lies between these meridians
EAST_LON = 128.30
LENGTH_M = 20000.0       # and is this long, centred on Hyesan
N_SYNTHETIC = 300

HYESAN = (128.17778, 41.40167)    # GeoNames (places.csv)
CHANGBAI = (128.19624, 41.41772)  # GeoNames (places.csv)

# WGS 84
A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)


def local_scales(lat_deg):
    """Metres per degree of longitude and latitude at a latitude (WGS 84)."""
    phi = math.radians(lat_deg)
    w = math.sqrt(1 - E2 * math.sin(phi) ** 2)
    n = A / w                        # prime vertical radius of curvature
    m = A * (1 - E2) / w ** 3        # meridional radius of curvature
    return math.radians(1) * n * math.cos(phi), math.radians(1) * m


class Local:
    """A local tangent-plane frame (east, north metres) around an origin."""

    def __init__(self, lon0, lat0):
        self.lon0, self.lat0 = lon0, lat0
        self.kx, self.ky = local_scales(lat0)

    def fwd(self, p):
        return ((p[0] - self.lon0) * self.kx, (p[1] - self.lat0) * self.ky)

    def inv(self, q):
        return (self.lon0 + q[0] / self.kx, self.lat0 + q[1] / self.ky)


def fmt(x):
    """At most 7 decimals, no trailing zeros (what the library writes)."""
    s = "%.7f" % x
    s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def dumps(obj):
    """Compact JSON with coordinates at 7 decimals, one feature per line."""
    if isinstance(obj, float):
        return fmt(obj)
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, list):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    return "{" + ",".join(json.dumps(k) + ":" + dumps(v) for k, v in obj.items()) + "}"


def write_collection(path, name, features):
    with open(path, "w", encoding="utf-8", newline="\n") as fp:
        fp.write('{"type":"FeatureCollection","name":%s,"features":[\n' % json.dumps(name))
        fp.write(",\n".join(dumps(f) for f in features))
        fp.write("\n]}\n")


def border_stretch(borders_path):
    """About LENGTH_M of the PRK-CHN border centred on its point nearest Hyesan, as one
    polyline running upstream (south-west to north-east).

    In the bundled file that stretch is the end of part 49 and the start of part 50
    (1-based; they meet at 128.14453E 41.37681N, on the Yalu below Hyesan)."""
    with open(borders_path, encoding="utf-8") as fp:
        data = json.load(fp)
    prk_chn = [f for f in data["features"] if f["properties"].get("name") == "PRK-CHN"][0]
    parts = prk_chn["geometry"]["coordinates"]
    # the two long parts that meet inside the window
    line = None
    for a in parts:
        for b in parts:
            if (a is not b and a[-1] == b[0] and WEST_LON < a[-1][0] < EAST_LON
                    and len(a) > 100 and len(b) > 100):
                line = [tuple(p) for p in a] + [tuple(p) for p in b[1:]]
    assert line, "the joined stretch was not found in borders.geojson"
    frame = Local(*HYESAN)
    pts = [frame.fwd(p) for p in line]
    k, _ = nearest_edge((0.0, 0.0), pts)
    lo, hi, back, fwd = k, k + 1, 0.0, 0.0
    while lo > 0 and back < LENGTH_M / 2:
        back += math.hypot(pts[lo][0] - pts[lo - 1][0], pts[lo][1] - pts[lo - 1][1])
        lo -= 1
    while hi < len(pts) - 1 and fwd < LENGTH_M / 2:
        fwd += math.hypot(pts[hi + 1][0] - pts[hi][0], pts[hi + 1][1] - pts[hi][1])
        hi += 1
    out = line[lo:hi + 1]
    assert all(WEST_LON - 0.05 < p[0] < EAST_LON for p in out), "stretch leaves the window"
    return out


def cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def nearest_edge(q, pts):
    """Index of the edge of pts nearest to q, and the distance (local metres)."""
    best, besti = float("inf"), 0
    for i in range(len(pts) - 1):
        a, b = pts[i], pts[i + 1]
        dx, dy = b[0] - a[0], b[1] - a[1]
        ll = dx * dx + dy * dy
        t = 0.0 if ll == 0 else max(0.0, min(1.0, ((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / ll))
        d = math.hypot(q[0] - (a[0] + t * dx), q[1] - (a[1] + t * dy))
        if d < best:
            best, besti = d, i
    return besti, best


def offset_right(border, dist):
    """Offsets the polyline by dist metres to its right (the DPRK side here: the line
    runs upstream, south-west to north-east, with China on its left), in a local
    tangent plane with the WGS 84 radii of curvature of the stretch's mid latitude.
    Vertices that would end up closer than dist/2 to the border (tight meanders)
    are dropped."""
    lat0 = sum(p[1] for p in border) / len(border)
    lon0 = sum(p[0] for p in border) / len(border)
    frame = Local(lon0, lat0)
    pts = [frame.fwd(p) for p in border]
    normals = []
    for a, b in zip(pts, pts[1:]):
        dx, dy = b[0] - a[0], b[1] - a[1]
        ln = math.hypot(dx, dy)
        normals.append((dy / ln, -dx / ln))  # right-hand normal
    out = []
    for i, p in enumerate(pts):
        ns = [normals[j] for j in (i - 1, i) if 0 <= j < len(normals)]
        nx, ny = sum(n[0] for n in ns), sum(n[1] for n in ns)
        ln = math.hypot(nx, ny)
        if ln < 1e-9:
            continue
        nx, ny = nx / ln, ny / ln
        cosh = max(0.5, nx * ns[0][0] + ny * ns[0][1])  # miter, capped at 2x
        q = (p[0] + nx * dist / cosh, p[1] + ny * dist / cosh)
        k, d = nearest_edge(q, pts)
        # keep only vertices clearly on the right side of the border
        if d >= dist / 2 and cross(pts[k], pts[k + 1], q) < 0:
            out.append(q)
    return frame, pts, out


def along(frame, line, spacing):
    """Points every `spacing` metres along a local-metre polyline (from its start)."""
    res, acc, nextd = [], 0.0, 0.0
    for a, b in zip(line, line[1:]):
        seg = math.hypot(b[0] - a[0], b[1] - a[1])
        while nextd <= acc + seg and seg > 0:
            t = (nextd - acc) / seg
            res.append(frame.inv((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))))
            nextd += spacing
        acc += seg
    return res


def sections(line, length):
    """Splits a local-metre polyline into consecutive pieces of about `length` m."""
    out, cur, acc = [], [line[0]], 0.0
    for a, b in zip(line, line[1:]):
        acc += math.hypot(b[0] - a[0], b[1] - a[1])
        cur.append(b)
        if acc >= length:
            out.append(cur)
            cur, acc = [b], 0.0
    if len(cur) >= 2:
        out.append(cur)
    return out


REPORT_SOURCE = "Daily NK source in Yanggang Province"


def installations(border):
    frame, border_local, fence = offset_right(border, OFFSET_M)
    feats = []
    for i, sec in enumerate(sections(fence, SECTION_M)):
        material = "string_wire" if i % 2 == 0 else "thin_steel_wire"
        feats.append({
            "type": "Feature",
            "id": "HYS-F-%03d" % (i + 1),
            "geometry": {"type": "LineString",
                         "coordinates": [[round(x, 7), round(y, 7)] for x, y in
                                         (frame.inv(q) for q in sec)]},
            "properties": {
                "ref": "HYS-F-%03d" % (i + 1),
                "kind": "fence",
                "layer": "primary",
                "material": material,
                "barbed": "no",
                "electrified": "unknown",
                "quality": "poor",
                "permanence": "unknown",
                "status": "under_construction",
                "start": "2020-07",
                "condition": "sways in the wind; can be lifted or cut by hand",
                "observed_by": "human_source",
                "source": REPORT_SOURCE,
                "source_type": "human",
                "reliability": "C",
                "credibility": 3,
                "synthetic": False,
                "note": "Materials, state and date as reported (Daily NK, 29 July 2020); "
                        "the line itself is drawn 120 m inside the DPRK side of the border "
                        "because the report gives no exact position.",
            },
        })
    for i, (lon, lat) in enumerate(along(frame, fence, POST_SPACING_M)):
        feats.append({
            "type": "Feature",
            "id": "HYS-GP-%03d" % (i + 1),
            "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
            "properties": {
                "ref": "HYS-GP-%03d" % (i + 1),
                "kind": "guard_post",
                "status": "complete",
                "observed_by": "unknown",
                "synthetic": True,
                "note": "Synthetic guard post for testing, placed every 500 m along the "
                        "fence; not an observation.",
            },
        })
    return feats, frame, border_local


TYPES = [  # (type, weight)
    ("smuggling", 35), ("river_crossing", 25), ("arrest", 15), ("crossing_attempt", 15),
    ("patrol", 4), ("fence_breach", 3), ("guard_post_work", 2), ("policy_notice", 1),
]


def weighted(rng, items):
    total = sum(w for _, w in items)
    x = rng.random() * total
    for v, w in items:
        if x < w:
            return v
        x -= w
    return items[-1][0]


def iso_day(days_since_2019):
    # proleptic Gregorian date from a day count (standard library only, no locale)
    import datetime
    return (datetime.date(2019, 1, 1) + datetime.timedelta(days=days_since_2019)).isoformat()


def incidents(frame, border_local):
    rng = random.Random(SEED)
    feats = [{
        "type": "Feature",
        "id": "DNK-2020-07-29-HYESAN",
        "geometry": {"type": "Point", "coordinates": [HYESAN[0], HYESAN[1]]},
        "properties": {
            "ref": "DNK-2020-07-29-HYESAN",
            "type": "fence_work",
            "start": "2020-07",
            "end": None,
            "time_precision": "month",
            "location_precision": "near_place",
            "uncertainty_m": 5000,
            "reported": "2020-07-29",
            "summary": "A source in Yanggang Province told Daily NK (reported 29 July 2020) "
                       "that new wire fencing has been put up near Hyesan since the beginning "
                       "of July 2020; smuggling and river crossings continue.",
            "verification": "single_source",
            "source": REPORT_SOURCE,
            "source_type": "human",
            "reliability": "C",
            "credibility": 3,
            "synthetic": False,
        },
    }]
    # Crossing points: border vertices spread along the stretch (near Hyesan and
    # Changbai, which face each other across the river).
    n = len(border_local)
    centres = [border_local[int(n * k / 7)] for k in range(1, 7)]
    names = []
    for c in centres:
        lonlat = frame.inv(c)
        dh = math.hypot(*(a - b for a, b in zip(frame.fwd(HYESAN), c)))
        dc = math.hypot(*(a - b for a, b in zip(frame.fwd(CHANGBAI), c)))
        names.append("Hyesan" if dh <= dc else "Changbai")
    days = (2021 - 2019 + 1) * 365 + 1  # 2019-01-01 .. 2021-12-31 (2020 is a leap year)
    for i in range(N_SYNTHETIC):
        k = int(rng.random() * len(centres))
        c = centres[k]
        r = 50 + rng.random() * 600          # metres from the crossing point
        a = rng.random() * 2 * math.pi
        lon, lat = frame.inv((c[0] + r * math.cos(a), c[1] + r * math.sin(a)))
        t = weighted(rng, TYPES)
        day = int(rng.random() * days)
        start = iso_day(day)
        reported = iso_day(day + 1 + int(rng.random() * 20))
        src = 1 + int(rng.random() * 12)
        feats.append({
            "type": "Feature",
            "id": "SYN-%04d" % (i + 1),
            "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
            "properties": {
                "ref": "SYN-%04d" % (i + 1),
                "type": t,
                "start": start,
                "time_precision": "day",
                "location_precision": "exact",
                "uncertainty_m": 100 * (1 + int(rng.random() * 10)),
                "reported": reported,
                "summary": "Synthetic record for testing: %s near %s. Not a real report."
                           % (t.replace("_", " "), names[k]),
                "verification": "unverified" if rng.random() < 0.6 else "single_source",
                "source": "Synthetic source %d" % src,
                "source_type": "human" if src <= 8 else "media",
                "reliability": "BCDE"[int(rng.random() * 4)],
                "credibility": 2 + int(rng.random() * 4),
                "synthetic": True,
            },
        })
    return feats


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "examples", "data")
    border = border_stretch(os.path.join(out_dir, "borders.geojson"))
    inst, frame, border_local = installations(border)
    write_collection(os.path.join(out_dir, "installations_hyesan.geojson"),
                     "installations_hyesan", inst)
    write_collection(os.path.join(out_dir, "incidents_hyesan.geojson"), "incidents_hyesan",
                     incidents(frame, border_local))
    print("installations: %d features, incidents: %d features"
          % (len(inst), N_SYNTHETIC + 1))


if __name__ == "__main__":
    main()
