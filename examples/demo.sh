#!/bin/sh
# The Hyesan demo: builds a store from examples/data/ with the bordertrack tool (with
# the two dated acts of 2020 on the PRK-CHN border, interventions.geojson), lists the
# incidents within 10 km of Hyesan since the border closure of January 2020, then draws the map of incidents within 25 km of Hyesan in 2020.
#
# Usage: examples/demo.sh BORDERTRACK [OUTDIR]
#   BORDERTRACK  the bordertrack executable (e.g. build/examples/cli/bordertrack)
#   OUTDIR       where demo.db and hyesan.png are written (default: .)
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 BORDERTRACK [OUTDIR]" >&2
    exit 2
fi
bt=$1
out=${2:-.}
data=$(cd "$(dirname "$0")/data" && pwd)

mkdir -p "$out"
rm -f "$out/demo.db" "$out/demo.db-wal" "$out/demo.db-shm"
"$bt" init "$out/demo.db"
"$bt" import "$out/demo.db" "$data/borders.geojson" "$data/places.csv" \
    "$data/installations_hyesan.geojson" "$data/incidents_hyesan.geojson" \
    "$data/interventions.geojson"
echo
echo "Incidents within 10 km of Hyesan since the border closure (January 2020), first 10:"
"$bt" query "$out/demo.db" --near Hyesan --radius 10km --from 2020-01-22 --limit 10
echo
"$bt" plot "$out/demo.db" --near Hyesan --radius 25km --from 2020 --to 2020 \
    -o "$out/hyesan.png"
echo "map written to $(cd "$out" && pwd)/hyesan.png"
