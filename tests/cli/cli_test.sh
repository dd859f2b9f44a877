#!/bin/sh
# Tests of the bordertrack command-line tool, one subcommand per test name.
#
# Usage: cli_test.sh TEST BORDERTRACK CHECK DATA_DIR DEMO_SH [XMLLINT]
#
# Expected values come from the sample data (examples/data/) by independent means,
# computed when the tests were written and stated next to each check:
# - incident sets and distances: Python over incidents_hyesan.geojson with PROJ's
#   `geod -I +ellps=WGS84` for the geodesic distances;
# - the offset of Hyesan from PRK-CHN: nearest point of the line by a local planar
#   search, then `geod -I` (616.277 m);
# - counts: the files' feature counts and property values;
# - the map pixel: the `check tmerc` command (Snyder's series, not the tool's).
set -u
test=$1
bt=$2
chk=$3
data=$4
demo=$5
xmllint=${6:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bt_cli_XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() {
    echo "FAIL [$test]: $*" >&2
    exit 1
}

# run WANT_RC CMD...: runs CMD, stdout to $tmp/out, stderr to $tmp/err.
run() {
    want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "--- stderr:" >&2
        cat "$tmp/err" >&2
        fail "exit $rc, expected $want: $*"
    fi
}

# same FILE_A FILE_B what
same() {
    if ! cmp -s "$1" "$2"; then
        echo "--- got:" >&2
        cat "$1" >&2
        echo "--- expected:" >&2
        cat "$2" >&2
        fail "$3"
    fi
}

has() { grep -qF -- "$1" "$2" || fail "'$1' not in $2: $(head -c 600 "$2")"; }
hasnt() { if grep -qF -- "$1" "$2"; then fail "'$1' unexpectedly in $2"; fi; }

db=$tmp/t.db
make_store() {
    run 0 "$bt" init "$db"
    run 0 "$bt" import "$db" "$data/borders.geojson" "$data/places.csv" \
        "$data/installations_hyesan.geojson" "$data/incidents_hyesan.geojson"
}

# The 2020 incidents within 2 km of Hyesan (41.40167 N, 128.17778 E), by id order.
REFS_2KM_2020="DNK-2020-07-29-HYESAN SYN-0002 SYN-0007 SYN-0009 SYN-0038 SYN-0043 SYN-0044 SYN-0059 SYN-0105 SYN-0116 SYN-0138 SYN-0142 SYN-0144 SYN-0153 SYN-0169 SYN-0176 SYN-0188 SYN-0190 SYN-0194 SYN-0195 SYN-0201 SYN-0218 SYN-0220 SYN-0226 SYN-0247 SYN-0254 SYN-0278"
# ... whose uncertainty circle lies inside (distance + uncertainty <= 2000 m).
REFS_2KM_CERTAIN="SYN-0007 SYN-0009 SYN-0105 SYN-0116 SYN-0138 SYN-0194 SYN-0218 SYN-0226 SYN-0247"

refs_of() { tail -n +2 "$1" | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//'; }

case $test in
usage)
    run 2 "$bt"
    has "Usage: bordertrack COMMAND" "$tmp/err"
    run 2 "$bt" frobnicate
    has "unknown command 'frobnicate'" "$tmp/err"
    run 0 "$bt" --help
    for c in init import export query nearest locate coverage profile plot stats; do
        has "  $c " "$tmp/out"
    done
    run 0 "$bt" --version
    grep -Eq '^bordertrack [0-9]+\.[0-9]+\.[0-9]+ \(library [0-9.]+\)$' "$tmp/out" ||
        fail "version line: $(cat "$tmp/out")"
    # every subcommand has --help on stdout and exit 0
    for c in init import export query nearest locate coverage profile plot stats; do
        run 0 "$bt" "$c" --help
        has "Usage: bordertrack $c" "$tmp/out"
        [ -s "$tmp/err" ] && fail "$c --help wrote to stderr"
    done
    ;;

init)
    run 0 "$bt" init "$db"
    [ -f "$db" ] || fail "no store file"
    mode=$(stat -c %a "$db")
    [ "$mode" = 600 ] || fail "store mode $mode, expected 600"
    run 1 "$bt" init "$db"
    has "already exists" "$tmp/err"
    run 2 "$bt" init
    has "missing DB" "$tmp/err"
    run 2 "$bt" init "$db" other.db
    run 2 "$bt" init --frob "$db"
    run 0 "$bt" stats "$db" --format csv
    has "records,incidents,0" "$tmp/out"
    has "records,interventions,0" "$tmp/out"
    ;;

import)
    make_store
    has "borders.geojson: borders: 3 features, 137 added" "$tmp/err"
    has "places.csv: places: 80 features, 80 added" "$tmp/err"
    has "installations_hyesan.geojson: installations: 47 features, 47 added" "$tmp/err"
    has "incidents_hyesan.geojson: incidents: 301 features, 301 added" "$tmp/err"
    # interventions: the layer from the file name, or --layer
    run 0 "$bt" import "$db" "$data/interventions.geojson"
    has "interventions.geojson: interventions: 2 features, 2 added" "$tmp/err"
    run 0 "$bt" stats "$db" --format csv
    has "records,interventions,2" "$tmp/out"
    run 0 "$bt" init "$tmp/v.db"
    cp "$data/interventions.geojson" "$tmp/acts.geojson"
    run 2 "$bt" import "$tmp/v.db" "$data/borders.geojson" "$tmp/acts.geojson"
    has "cannot tell the layer of '$tmp/acts.geojson'" "$tmp/err"
    run 0 "$bt" import "$tmp/v.db" "$data/borders.geojson"
    # an intervention names a border that must exist: without its segments, nothing
    run 1 "$bt" import "$tmp/u0.db" "$tmp/acts.geojson" --layer interventions
    run 0 "$bt" init "$tmp/u0.db"
    run 1 "$bt" import "$tmp/u0.db" "$tmp/acts.geojson" --layer interventions
    has "acts.geojson: feature 1 (line 2, column 1): intervention 'PRK-CHN-CLOSURE-2020-01': border 'PRK-CHN' has no segment" "$tmp/err"
    # the file is named once, by the library's message
    has "bordertrack import: $tmp/acts.geojson: feature 1 (line 2" "$tmp/err"
    run 0 "$bt" import "$tmp/v.db" "$tmp/acts.geojson" --layer interventions
    has "acts.geojson: interventions: 2 features, 2 added" "$tmp/err"
    # usage errors
    run 2 "$bt" import "$db"
    run 2 "$bt" import "$db" "$data/places.csv" --layer nonsense
    has "expected borders, installations, incidents, sources, places or interventions" "$tmp/err"
    cp "$data/places.csv" "$tmp/gazetteer.csv"
    run 2 "$bt" import "$db" "$tmp/gazetteer.csv"
    has "give --layer" "$tmp/err"
    run 2 "$bt" import "$db" "$data/places.csv" --crs
    # all or nothing across files: a good file then a missing one keeps nothing
    run 0 "$bt" init "$tmp/u.db"
    run 1 "$bt" import "$tmp/u.db" "$data/places.csv" "$tmp/missing_places.csv"
    has "nothing was imported" "$tmp/err"
    run 0 "$bt" stats "$tmp/u.db" --format csv
    has "records,places,0" "$tmp/out"
    # --layer overrides the name; --skip-invalid reports the bad row and keeps the rest
    printf 'name,country,lat,lon\nGood,KP,41.4,128.1\nBad,KP,95,128.1\n' >"$tmp/g.csv"
    run 1 "$bt" import "$tmp/u.db" "$tmp/g.csv" --layer places
    run 0 "$bt" import "$tmp/u.db" "$tmp/g.csv" --layer places --skip-invalid
    has "skipped:" "$tmp/err"
    has "2 features, 1 added, 1 skipped" "$tmp/err"
    run 1 "$bt" import "$tmp/nostore.db" "$data/places.csv"
    # stderr is not a terminal here: no progress bar
    rm -f "$db"
    make_store
    hasnt "%" "$tmp/err"
    hasnt "$(printf '\r')" "$tmp/err"
    # on a terminal (a pty from script(1)), a bar that ends at 100%
    if command -v script >/dev/null 2>&1; then
        run 0 "$bt" init "$tmp/p.db"
        script -qec "'$bt' import '$tmp/p.db' '$data/places.csv' '$data/incidents_hyesan.geojson'" \
            /dev/null </dev/null >"$tmp/pty" 2>&1 || fail "import under a pty: $(cat "$tmp/pty")"
        has "import       [" "$tmp/pty"
        has "########################################] 100%" "$tmp/pty"
        has "incidents: 301 features, 301 added" "$tmp/pty"
    fi
    ;;

export)
    make_store
    run 0 "$bt" export "$db" --layer places --format csv
    lines=$(wc -l <"$tmp/out")
    [ "$lines" -eq 81 ] || fail "places CSV has $lines lines, expected 81"
    has "Sinŭiju" "$tmp/out"
    # redaction by default: the source of the real report is never written
    run 0 "$bt" export "$db"
    has '"FeatureCollection"' "$tmp/out"
    has "DNK-2020-07-29-HYESAN" "$tmp/out"
    hasnt "Daily NK source in Yanggang Province" "$tmp/out"
    run 0 "$bt" export "$db" --include-sources
    has "Daily NK source in Yanggang Province" "$tmp/out"
    run 0 "$bt" export "$db" --layer installations -o "$tmp/inst.csv"
    [ "$(wc -l <"$tmp/inst.csv")" -ge 48 ] || fail "installations CSV too short"
    run 0 "$bt" export "$db" --layer borders --format kml -o "$tmp/b.kml"
    has "<kml" "$tmp/b.kml"
    run 2 "$bt" export "$db" --format xls
    run 2 "$bt" export "$db" --layer sources
    has "needs --include-sources" "$tmp/err"
    run 2 "$bt" export "$db" --generalise 5
    run 2 "$bt" export
    run 1 "$bt" export "$tmp/nostore.db"
    # FILTERS: the same incidents as query (independently computed list, above)
    run 0 "$bt" export "$db" --near Hyesan --radius 2km --from 2020 --to 2020 --format csv
    tr -d '\r' <"$tmp/out" >"$tmp/e.csv"
    [ "$(refs_of "$tmp/e.csv")" = "$REFS_2KM_2020" ] || fail "export 2 km refs: $(refs_of "$tmp/e.csv")"
    hasnt "% " "$tmp/err"
    run 0 "$bt" export "$db" --near 128.17778,41.40167 --radius 2km --from 2020 --to 2020 \
        -o "$tmp/e.geojson"
    n=$(grep -o '{"type":"Feature","id":' "$tmp/e.geojson" | wc -l)
    [ "$n" -eq 27 ] || fail "filtered GeoJSON has $n features, expected 27"
    has '"id":"SYN-0278"' "$tmp/e.geojson"
    hasnt '"id":"SYN-0001"' "$tmp/e.geojson"
    # the filtered file imports back to just those incidents
    run 0 "$bt" init "$tmp/e.db"
    run 0 "$bt" import "$tmp/e.db" "$tmp/e.geojson" --layer incidents
    has "27 features, 27 added" "$tmp/err"
    run 0 "$bt" export "$db" --type smuggling,arrest --from 2020 --to 2020 --format csv
    [ "$(tail -n +2 "$tmp/out" | wc -l)" -eq 46 ] || fail "export type count"
    run 0 "$bt" export "$db" --bbox 128.17,41.39,128.19,41.41 --format geojsonseq
    [ "$(wc -l <"$tmp/out")" -eq 14 ] || fail "export bbox count"
    # the uncertainty semantics as in query (counts derived there)
    run 0 "$bt" export "$db" --bbox 128.17,41.39,128.19,41.41 --match possible --format geojsonseq
    [ "$(wc -l <"$tmp/out")" -eq 58 ] || fail "export bbox possible count"
    run 0 "$bt" export "$db" --bbox 128.17,41.39,128.19,41.41 --match certain --format geojsonseq
    [ "$(wc -l <"$tmp/out")" -eq 5 ] || fail "export bbox certain count"
    # installations take the area and the time window; borders the area
    run 0 "$bt" export "$db" --layer installations --near Hyesan --radius 3km --format csv
    n=$(tail -n +2 "$tmp/out" | wc -l)
    [ "$n" -gt 0 ] && [ "$n" -lt 47 ] || fail "installations near Hyesan: $n"
    run 0 "$bt" export "$db" --layer borders --bbox 128.10,41.35,128.25,41.45 --format csv
    n=$(tail -n +2 "$tmp/out" | wc -l)
    [ "$n" -gt 0 ] && [ "$n" -lt 137 ] || fail "borders in the box: $n"
    run 2 "$bt" export "$db" --layer places --near Hyesan --radius 1km
    has "the places layer takes no FILTERS" "$tmp/err"
    # interventions: GeoJSON, CSV and KML; a round trip through a fresh store
    run 0 "$bt" import "$db" "$data/interventions.geojson"
    run 0 "$bt" export "$db" --layer interventions --format csv
    [ "$(wc -l <"$tmp/out")" -eq 3 ] || fail "interventions CSV: $(wc -l <"$tmp/out") lines"
    has "ref,name,kind,start,end,summary,citation,border,from_m,to_m,wkt" "$tmp/out"
    has "PRK-CHN-BUFFER-ZONE-2020-08-25,Border buffer zone with shoot-on-sight orders,order,2020-08-25," "$tmp/out"
    run 0 "$bt" export "$db" --layer interventions -o "$tmp/interventions_rt.geojson"
    has '"id":"PRK-CHN-CLOSURE-2020-01","geometry":null' "$tmp/interventions_rt.geojson"
    run 0 "$bt" export "$db" --layer interventions --format kml -o "$tmp/iv.kml"
    has "<name>Border closure (COVID-19)</name>" "$tmp/iv.kml"
    run 0 "$bt" init "$tmp/rt.db"
    run 0 "$bt" import "$tmp/rt.db" "$data/borders.geojson" "$tmp/interventions_rt.geojson"
    has "interventions_rt.geojson: interventions: 2 features, 2 added" "$tmp/err"
    run 0 "$bt" export "$tmp/rt.db" --layer interventions -o "$tmp/rt2.geojson"
    same "$tmp/rt2.geojson" "$tmp/interventions_rt.geojson" "interventions round trip"
    run 2 "$bt" export "$db" --layer interventions --from 2020
    has "the interventions layer takes no FILTERS" "$tmp/err"
    run 2 "$bt" export "$db" --layer installations --type smuggling
    has "apply to incidents only" "$tmp/err"
    run 2 "$bt" export "$db" --layer borders --from 2020
    has "do not apply to borders" "$tmp/err"
    run 2 "$bt" export "$db" --near Hyesan
    has "--near needs --radius" "$tmp/err"
    run 2 "$bt" export "$db" --radius 5km
    run 2 "$bt" export "$db" --from 2021 --to 2020
    run 1 "$bt" export "$db" --near Atlantis --radius 5km
    # a progress bar only on a terminal
    if command -v script >/dev/null 2>&1; then
        script -qec "'$bt' export '$db' -o '$tmp/all.geojson'" /dev/null </dev/null \
            >"$tmp/pty" 2>&1 || fail "export under a pty: $(cat "$tmp/pty")"
        has "export       [########################################] 100%" "$tmp/pty"
        has "wrote $tmp/all.geojson" "$tmp/pty"
    fi
    ;;

query)
    make_store
    run 0 "$bt" query "$db" --near Hyesan --radius 2km --from 2020 --to 2020 --format csv
    head -1 "$tmp/out" | tr -d '\r' >"$tmp/h"
    echo "ref,type,lon,lat,uncertainty_m,location_precision,start,end,time_precision,reported,verification,summary,id,distance_m" >"$tmp/h.exp"
    same "$tmp/h" "$tmp/h.exp" "incident CSV header"
    [ "$(refs_of "$tmp/out")" = "$REFS_2KM_2020" ] || fail "2 km refs: $(refs_of "$tmp/out")"
    # the real report, field by field (its summary has commas: check the fields before)
    grep '^DNK-2020-07-29-HYESAN,' "$tmp/out" | cut -d, -f1-11 >"$tmp/r"
    echo "DNK-2020-07-29-HYESAN,fence_work,128.1777800,41.4016700,5000,near_place,2020-07,,month,2020-07-29,single_source" >"$tmp/r.exp"
    same "$tmp/r" "$tmp/r.exp" "fields of the real report"
    grep '^DNK-2020-07-29-HYESAN,' "$tmp/out" | tr -d '\r' | awk -F, '{print $NF}' >"$tmp/d"
    echo 0 >"$tmp/d.exp"
    same "$tmp/d" "$tmp/d.exp" "distance of the real report"
    # SYN-0007 at 1378.1 m (geod)
    d=$(grep '^SYN-0007,' "$tmp/out" | tr -d '\r' | awk -F, '{print $NF}')
    [ "$d" = "1378.1" ] || fail "SYN-0007 distance $d, expected 1378.1"
    # uncertainty semantics
    run 0 "$bt" query "$db" --near Hyesan --radius 2km --from 2020 --to 2020 --match certain --format csv
    [ "$(refs_of "$tmp/out")" = "$REFS_2KM_CERTAIN" ] || fail "certain refs: $(refs_of "$tmp/out")"
    run 0 "$bt" query "$db" --near Hyesan --radius 2km --from 2020 --to 2020 --match possible --format csv
    [ "$(tail -n +2 "$tmp/out" | wc -l)" -eq 45 ] || fail "possible count"
    # GeoJSON: RFC 7946 collection, one feature per incident, typed properties
    run 0 "$bt" query "$db" --near Hyesan --radius 2km --from 2020 --to 2020 --format geojson
    has '{"type":"FeatureCollection","features":[' "$tmp/out"
    n=$(grep -o '"type":"Feature",' "$tmp/out" | wc -l)
    [ "$n" -eq 27 ] || fail "GeoJSON has $n features, expected 27"
    has '{"type":"Feature","geometry":{"type":"Point","coordinates":[128.1777800,41.4016700]},"properties":{"ref":"DNK-2020-07-29-HYESAN","type":"fence_work","lon":128.1777800,"lat":41.4016700,"uncertainty_m":5000,"location_precision":"near_place","start":"2020-07","end":null,"time_precision":"month","reported":"2020-07-29","verification":"single_source",' "$tmp/out"
    # box and polygon (the same square): 14 incidents in the file lie in it
    run 0 "$bt" query "$db" --bbox 128.17,41.39,128.19,41.41 --format csv
    [ "$(tail -n +2 "$tmp/out" | wc -l)" -eq 14 ] || fail "bbox count"
    printf '{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[128.17,41.39],[128.19,41.39],[128.19,41.41],[128.17,41.41],[128.17,41.39]]]}}\n' >"$tmp/sq.geojson"
    run 0 "$bt" query "$db" --within "$tmp/sq.geojson" --format csv
    [ "$(tail -n +2 "$tmp/out" | wc -l)" -eq 14 ] || fail "polygon count"
    # uncertainty semantics on the square, as box and as polygon (its edges are
    # meridians and parallels either way): 14 points inside; 58 uncertainty circles
    # reach it; 5 lie wholly inside. Reference: PROJ's geod -I (WGS 84) from each
    # incident to the square's edges sampled every 0.9 m; no incident is within 1 m of
    # its threshold
    for m in point:14 possible:58 certain:5; do
        run 0 "$bt" query "$db" --bbox 128.17,41.39,128.19,41.41 --match "${m%:*}" --format csv
        n=$(tail -n +2 "$tmp/out" | wc -l)
        [ "$n" -eq "${m#*:}" ] || fail "bbox --match ${m%:*}: $n, expected ${m#*:}"
        run 0 "$bt" query "$db" --within "$tmp/sq.geojson" --match "${m%:*}" --format csv
        n=$(tail -n +2 "$tmp/out" | wc -l)
        [ "$n" -eq "${m#*:}" ] || fail "--within --match ${m%:*}: $n, expected ${m#*:}"
    done
    run 2 "$bt" query "$db" --match possible
    has "--match needs an area" "$tmp/err"
    # types in 2020: 33 smuggling + 13 arrests; --limit
    run 0 "$bt" query "$db" --type smuggling,arrest --from 2020 --to 2020 --format csv
    [ "$(tail -n +2 "$tmp/out" | wc -l)" -eq 46 ] || fail "type count"
    run 0 "$bt" query "$db" --type smuggling --limit 3 --format csv
    [ "$(tail -n +2 "$tmp/out" | wc -l)" -eq 3 ] || fail "limit"
    # the table is aligned: every data line as wide as the rule under the header
    run 0 "$bt" query "$db" --near Hyesan --radius 500m --format table
    has "ref  " "$tmp/out"
    # place lookup: diacritics, unknown with candidates
    run 0 "$bt" query "$db" --near Sinuiju --radius 1km
    run 1 "$bt" query "$db" --near Hyesn --radius 1km
    has "no place named 'Hyesn'; closest: Hyesan (KP, 128.17778 41.40167)" "$tmp/err"
    # usage errors
    run 2 "$bt" query "$db" --near Hyesan --radius 5
    has "expected a distance with a unit" "$tmp/err"
    run 2 "$bt" query "$db" --radius 5km
    run 2 "$bt" query "$db" --near Hyesan
    run 2 "$bt" query "$db" --type bogus
    has "unknown incident type 'bogus'" "$tmp/err"
    run 2 "$bt" query "$db" --bbox 1,2,3
    run 2 "$bt" query "$db" --from 2020-13
    run 2 "$bt" query "$db" --from 2021 --to 2020
    run 2 "$bt" query "$db" --min-reliability G
    run 2 "$bt" query "$db" --min-credibility 7
    run 2 "$bt" query "$db" --match maybe
    run 2 "$bt" query "$db" --bbox 128,41,129,42 --near Hyesan --radius 1km
    run 2 "$bt" query "$db" --format xml
    run 2 "$bt" query
    run 1 "$bt" query "$tmp/nostore.db"
    ;;

nearest)
    make_store
    run 0 "$bt" nearest "$db" --near 128.17778,41.40167 -k 5 --format csv
    tail -n +2 "$tmp/out" | tr -d '\r' | awk -F, '{print $1, $NF}' >"$tmp/n"
    cat >"$tmp/n.exp" <<'EXP'
DNK-2020-07-29-HYESAN 0
SYN-0227 478.8
SYN-0276 565
SYN-0133 588.5
SYN-0294 618.1
EXP
    same "$tmp/n" "$tmp/n.exp" "5 nearest with distances (geod)"
    run 0 "$bt" nearest "$db" --near Hyesan -k 2 --type river_crossing --format csv
    [ "$(tail -n +2 "$tmp/out" | cut -d, -f2 | sort -u)" = river_crossing ] || fail "type filter"
    [ "$(tail -n +2 "$tmp/out" | cut -d, -f1)" = "SYN-0133
SYN-0052" ] || fail "nearest river crossings: $(cat "$tmp/out")"
    run 0 "$bt" nearest "$db" --near Hyesan --format geojson
    [ "$(grep -o '"type":"Feature",' "$tmp/out" | wc -l)" -eq 10 ] || fail "default k"
    run 2 "$bt" nearest "$db"
    run 2 "$bt" nearest "$db" --near Hyesan -k 0
    run 2 "$bt" nearest "$db" --near Hyesan --radius 1km
    run 2 "$bt" nearest "$db" --near 200,41
    run 1 "$bt" nearest "$db" --near Nowhereville
    ;;

locate)
    make_store
    run 0 "$bt" locate "$db" --border PRK-CHN --at 128.17778,41.40167 --format csv
    head -1 "$tmp/out" | tr -d '\r' >"$tmp/h"
    echo "ref,border,chainage_m,offset_m,side,lon,lat" >"$tmp/h.exp"
    same "$tmp/h" "$tmp/h.exp" "locate header"
    # Hyesan is 616.277 m from the line (independent search + geod), on the Korean
    # side: right of increasing chainage for PRK-CHN
    tail -n +2 "$tmp/out" | tr -d '\r' | awk -F, '{
        ok = $1 == "" && $2 == "PRK-CHN" && $4 >= 615.8 && $4 <= 616.8 && $5 == "right" &&
             $3 > 0 && $3 < 1600000 && $6 == "128.1777800" && $7 == "41.4016700";
        exit ok ? 0 : 1 }' || fail "locate row: $(cat "$tmp/out")"
    run 0 "$bt" locate "$db" --border PRK-CHN --incidents --near Hyesan --radius 600m --format csv
    # the four incidents within 600 m of Hyesan (geod), in id order
    [ "$(tail -n +2 "$tmp/out" | cut -d, -f1 | tr '\n' ' ')" = "DNK-2020-07-29-HYESAN SYN-0133 SYN-0227 SYN-0276 " ] ||
        fail "locate incidents: $(cat "$tmp/out")"
    # a point 10 km inside China is on the left
    run 0 "$bt" locate "$db" --border PRK-CHN --at 128.2,41.5 --format csv
    [ "$(tail -n +2 "$tmp/out" | cut -d, -f5 | tr -d '\r')" = left ] || fail "side in China"
    run 0 "$bt" locate "$db" --border PRK-CHN --at 128.17778,41.40167 --format geojson
    has '"geometry":{"type":"Point","coordinates":[128.1777800,41.4016700]}' "$tmp/out"
    run 2 "$bt" locate "$db" --at 128,41
    run 2 "$bt" locate "$db" --border PRK-CHN
    run 2 "$bt" locate "$db" --border PRK-CHN --at 128,41 --incidents
    run 2 "$bt" locate "$db" --border PRK-CHN --at 128,41 --from 2020
    run 2 "$bt" locate "$db" --border PRK-CHN --at 128
    run 1 "$bt" locate "$db" --border XXX-YYY --at 128,41
    ;;

coverage)
    make_store
    # every fence of the sample is under construction: none stands by default
    run 0 "$bt" coverage "$db" --border PRK-CHN --from-km 800 --to-km 850 --format csv
    tr -d '\r' <"$tmp/out" >"$tmp/c"
    printf 'border,start_m,end_m,length_m,observed,place_from,place_to,incidents\n' >"$tmp/c.exp"
    head -1 "$tmp/c" >"$tmp/c.h"
    same "$tmp/c.h" "$tmp/c.exp" "coverage header"
    [ "$(tail -n +2 "$tmp/c" | cut -d, -f1-5)" = "PRK-CHN,800000,850000,50000,0" ] ||
        fail "one gap over the whole range: $(cat "$tmp/c")"
    # counting them: gaps shrink, each row consistent, within the range
    run 0 "$bt" coverage "$db" --border PRK-CHN --from-km 800 --to-km 850 --include-construction --min-gap 100m --format csv
    tr -d '\r' <"$tmp/out" | tail -n +2 >"$tmp/c"
    [ -s "$tmp/c" ] || fail "no gap"
    awk -F, '{ if ($1 != "PRK-CHN" || $2 < 800000 || $3 > 850000 || $3 <= $2 ||
                   ($3 - $2 - $4) > 0.2 || ($4 - $3 + $2) > 0.2 || $4 < 100) exit 1;
               total += $4 }
             END { exit (total < 50000 && total > 0) ? 0 : 1 }' "$tmp/c" ||
        fail "gap rows: $(cat "$tmp/c")"
    has "covered" "$tmp/err"
    run 0 "$bt" coverage "$db" --border PRK-CHN --from-km 800 --to-km 850 --include-construction --format geojson
    has '"geometry":{"type":"LineString","coordinates":[[' "$tmp/out"
    run 0 "$bt" coverage "$db" --border PRK-CHN --from-km 800 --to-km 850
    has "PRK-CHN: 50.000 km examined" "$tmp/out"
    run 2 "$bt" coverage "$db" --border PRK-CHN --from-km 850 --to-km 800
    run 2 "$bt" coverage "$db" --border PRK-CHN --as-of yesterday
    run 2 "$bt" coverage "$db"
    run 2 "$bt" coverage "$db" --border PRK-CHN --near Hyesan
    run 1 "$bt" coverage "$db" --border XXX-YYY
    ;;

profile)
    make_store
    run 0 "$bt" stats "$db" --format csv
    len_km=$(grep '^border_length_km,PRK-CHN,' "$tmp/out" | tr -d '\r' | cut -d, -f3)
    run 0 "$bt" profile "$db" --border PRK-CHN --from 2020 --to 2020 --format csv
    # all 92 incidents of 2020 lie within 6.2 km of Hyesan, itself 616 m from the line
    tr -d '\r' <"$tmp/out" | awk -F, -v len="$len_km" '
        NR == 1 { if ($0 != "border,from_m,to_m,count") exit 1; next }
        { n++; s += $4; if ($3 <= $2) exit 1 }
        END { bins = int(len); if (bins < len) bins++; exit (s == 92 && n == bins) ? 0 : 1 }' ||
        fail "profile bins/sum (length $len_km km): $(head -3 "$tmp/out")"
    run 0 "$bt" profile "$db" --border PRK-CHN --type smuggling --from 2020 --to 2020 --format csv
    s=$(tr -d '\r' <"$tmp/out" | awk -F, 'NR > 1 { s += $4 } END { print s }')
    [ "$s" -eq 33 ] || fail "smuggling 2020 sum $s, expected 33"
    run 0 "$bt" profile "$db" --border PRK-CHN --hotspots 3 --format csv
    tr -d '\r' <"$tmp/out" | awk -F, 'NR == 1 { if ($0 != "border,from_m,to_m,count,place,place_m") exit 1; next }
        { n++; if (n > 1 && $4 > prev) exit 1; prev = $4; if ($3 - $2 != 1000) exit 1 }
        END { exit n == 3 ? 0 : 1 }' || fail "hotspots: $(cat "$tmp/out")"
    run 2 "$bt" profile "$db" --border PRK-CHN --near Hyesan --radius 5km
    run 2 "$bt" profile "$db" --border PRK-CHN --bin 0m
    run 2 "$bt" profile "$db"
    run 1 "$bt" profile "$db" --border XXX-YYY
    ;;

stats)
    make_store
    run 0 "$bt" stats "$db" --format csv
    tr -d '\r' <"$tmp/out" | grep -v '^border_length_km' >"$tmp/s"
    # counts from the files: 103 + 17 + 17 border parts, 47 installations (38 guard
    # posts, 9 fences under construction), 301 incidents each with one source link
    cat >"$tmp/s.exp" <<'EXP'
section,name,value
records,borders,137
records,installations,47
records,incidents,301
records,sources,13
records,links,301
records,places,80
records,interventions,0
incident_type,smuggling,100
incident_type,river_crossing,83
incident_type,crossing_attempt,50
incident_type,arrest,35
incident_type,fence_work,1
incident_type,fence_breach,6
incident_type,guard_post_work,10
incident_type,patrol,12
incident_type,policy_notice,4
incident_time,first,2019-01-02
incident_time,last,2021-12-29
installation_kind,fence,9
installation_kind,guard_post,38
installation_status,under_construction,9
installation_status,complete,38
EXP
    same "$tmp/s" "$tmp/s.exp" "stats"
    n=$(grep -c '^border_length_km,' "$tmp/out")
    [ "$n" -eq 3 ] || fail "border lengths: $n"
    run 2 "$bt" stats "$db" --format geojson
    run 2 "$bt" stats
    run 1 "$bt" stats "$tmp/nostore.db"
    ;;

plot)
    make_store
    # the size asked, read from the PNG header
    run 0 "$bt" plot "$db" --near Hyesan --radius 5km --from 1990 --to 1990 --size 800x600 -o "$tmp/m.png"
    [ "$("$chk" png-size "$tmp/m.png")" = "800 600" ] || fail "PNG size"
    # the border colour where two PRK-CHN vertices must be, using the frame the tool
    # reports and an independent projection: 128.18667 E 41.41166 N (1.3 km NE of
    # Hyesan, where the line runs east-west) and 128.1665 E 41.38851 N (1.7 km SW,
    # where it runs north-south), each over 400 m from any guard post
    frame=$(grep '^frame:' "$tmp/err") || fail "no frame line"
    fr=$(echo "$frame" | sed 's/frame: centre \([^,]*\),\([^ ]*\) at \([^,]*\),\([^ ]*\) px, \([^ ]*\) m\/px.*/\1 \2 \3 \4 \5/')
    set -- $fr
    [ "$1" = 128.17778 ] && [ "$2" = 41.40167 ] || fail "frame centre: $frame"
    for v in "128.18667 41.41166" "128.1665 41.38851"; do
        set -- $fr
        set -- $("$chk" tmerc "$1" "$2" $v) "$3" "$4" "$5"
        px=$(awk -v x="$1" -v cx="$3" -v s="$5" 'BEGIN { printf "%.2f", cx + x / s }')
        py=$(awk -v y="$2" -v cy="$4" -v s="$5" 'BEGIN { printf "%.2f", cy - y / s }')
        "$chk" find-colour "$tmp/m.png" "$px" "$py" 1.5 c70078 10 >/dev/null ||
            fail "border colour not at $px,$py (vertex $v)"
    done
    # and not where there is no border (2 km south of Hyesan, in North Korea)
    set -- $fr
    set -- $("$chk" tmerc "$1" "$2" 128.17778 41.3837) "$3" "$4" "$5"
    qx=$(awk -v x="$1" -v cx="$3" -v s="$5" 'BEGIN { printf "%.2f", cx + x / s }')
    qy=$(awk -v y="$2" -v cy="$4" -v s="$5" 'BEGIN { printf "%.2f", cy - y / s }')
    if "$chk" find-colour "$tmp/m.png" "$qx" "$qy" 3 c70078 10 >/dev/null; then
        fail "border colour at $qx,$qy where there is no border"
    fi
    # SVG: well-formed, and the legend lists every incident type present in 2020
    # within 25 km of Hyesan (9 types, from the file)
    run 0 "$bt" plot "$db" --near Hyesan --radius 25km --from 2020 --to 2020 -o "$tmp/m.svg" --profile
    "$chk" xml "$tmp/m.svg" || fail "SVG not well-formed (check)"
    if [ -n "$xmllint" ]; then
        "$xmllint" --noout "$tmp/m.svg" || fail "SVG not well-formed (xmllint)"
    fi
    has "<title>Incidents within 25 km of Hyesan, 2020 (92 shown)</title>" "$tmp/m.svg"
    for t in smuggling river_crossing crossing_attempt arrest fence_work fence_breach \
             guard_post_work patrol policy_notice; do
        grep -q "<desc>.*\\b$t\\b.*</desc>" "$tmp/m.svg" || fail "legend lacks $t"
    done
    for t in shooting defection; do
        if grep -q "<desc>.*\\b$t\\b.*</desc>" "$tmp/m.svg"; then fail "legend lists absent $t"; fi
    done
    has "fence: string wire" "$tmp/m.svg"
    has "under construction" "$tmp/m.svg"
    has "border PRK-CHN" "$tmp/m.svg"
    # PDF from the same drawing code
    run 0 "$bt" plot "$db" --bbox 128.0,41.3,128.3,41.5 -o "$tmp/m.pdf"
    [ "$(head -c 5 "$tmp/m.pdf")" = "%PDF-" ] || fail "not a PDF"
    run 0 "$bt" plot "$db" --type river_crossing -o "$tmp/f.png" --size 640x480
    has "(640x480, 83 incidents)" "$tmp/err"
    # usage and runtime errors
    run 2 "$bt" plot "$db" --near Hyesan --radius 5km
    run 2 "$bt" plot "$db" --near Hyesan --radius 5km -o "$tmp/m.gif"
    run 2 "$bt" plot "$db" --near Hyesan --radius 5km -o "$tmp/m.png" --size 10x10
    run 2 "$bt" plot "$db" --near Hyesan -o "$tmp/m.png"
    run 1 "$bt" plot "$db" --near Hyesan --radius 5km -o "$tmp/no/such/dir/m.png"
    run 1 "$bt" plot "$db" --from 1990 --to 1990 -o "$tmp/e.png"
    ;;

demo)
    run 0 "$demo" "$bt" "$tmp/demo"
    has "map written to " "$tmp/out"
    has "interventions.geojson: interventions: 2 features, 2 added" "$tmp/err"
    has "DNK-2020-07-29-HYESAN  fence_work" "$tmp/out"
    has "10 incidents" "$tmp/err"
    [ "$("$chk" png-size "$tmp/demo/hyesan.png")" = "1600 1200" ] || fail "demo PNG size"
    run 2 "$demo"
    ;;

*)
    fail "unknown test"
    ;;
esac
exit 0
