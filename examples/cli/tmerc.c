/**
 * @file tmerc.c
 * @brief Transverse Mercator on the WGS 84 ellipsoid, for the map: conformal, so
 * shapes and local distances look right, and exact to well under a millimetre within
 * a few hundred kilometres of the central meridian.
 *
 * Krüger's series to third order in the third flattening n (Karney, "Transverse
 * Mercator with an accuracy of a few nanometers", J. Geodesy 85 (2011), eqs. 7-12 and
 * 35-36; the same series as the UTM formulas), with scale factor 1 on the central
 * meridian and false northing chosen so that the map centre is (0, 0):
 *
 *   t  = sinh(atanh(sin φ) - e' atanh(e' sin φ)),  e' = 2√n / (1 + n) (= e)
 *   ξ' = atan2(t, cos λ),  η' = atanh(sin λ / √(1 + t²))
 *   x  = A (η' + Σ_j α_j cos 2jξ' sinh 2jη'),  y = A (ξ' + Σ_j α_j sin 2jξ' cosh 2jη')
 *   A  = a / (1 + n) (1 + n²/4 + n⁴/64)
 *   α1 = n/2 - 2n²/3 + 5n³/16,  α2 = 13n²/48 - 3n³/5,  α3 = 61n³/240
 *
 * with λ the longitude from the central meridian. Truncating at n³ leaves an error of
 * order n⁴ a ≈ 0.1 mm.
 */
#include "cli.h"

#include <math.h>

#define BTCLI_PI 3.14159265358979323846
#define WGS84_A 6378137.0
#define WGS84_F (1.0 / 298.257223563)

typedef struct series {
    double n, A, e;
    double alpha[3], beta[3], delta[3];
} series;

static void series_init(series *s)
{
    double n = WGS84_F / (2.0 - WGS84_F);
    double n2 = n * n, n3 = n2 * n;
    s->n = n;
    s->A = WGS84_A / (1.0 + n) * (1.0 + n2 / 4.0 + n2 * n2 / 64.0);
    s->e = 2.0 * sqrt(n) / (1.0 + n);
    s->alpha[0] = n / 2.0 - 2.0 * n2 / 3.0 + 5.0 * n3 / 16.0;
    s->alpha[1] = 13.0 * n2 / 48.0 - 3.0 * n3 / 5.0;
    s->alpha[2] = 61.0 * n3 / 240.0;
    s->beta[0] = n / 2.0 - 2.0 * n2 / 3.0 + 37.0 * n3 / 96.0;
    s->beta[1] = n2 / 48.0 + n3 / 15.0;
    s->beta[2] = 17.0 * n3 / 480.0;
    s->delta[0] = 2.0 * n - 2.0 * n2 / 3.0 - 2.0 * n3;
    s->delta[1] = 7.0 * n2 / 3.0 - 8.0 * n3 / 5.0;
    s->delta[2] = 56.0 * n3 / 15.0;
}

/* Projects with the central meridian lon0 and no false northing. */
static void fwd_raw(const series *s, double lon0, double lon, double lat, double *x, double *y)
{
    double phi = lat * BTCLI_PI / 180.0;
    double lam = (lon - lon0) * BTCLI_PI / 180.0;
    double sp = sin(phi);
    double t = sinh(atanh(sp) - s->e * atanh(s->e * sp));
    double xi = atan2(t, cos(lam));
    double eta = atanh(sin(lam) / sqrt(1.0 + t * t));
    double X = eta, Y = xi;
    for (int j = 1; j <= 3; j++) {
        X += s->alpha[j - 1] * cos(2 * j * xi) * sinh(2 * j * eta);
        Y += s->alpha[j - 1] * sin(2 * j * xi) * cosh(2 * j * eta);
    }
    *x = s->A * X;
    *y = s->A * Y;
}

void btcli_tmerc_init(btcli_tmerc *t, double lon0, double lat0)
{
    series s;
    series_init(&s);
    double x;
    t->lon0 = lon0;
    t->lat0 = lat0;
    fwd_raw(&s, lon0, lon0, lat0, &x, &t->y0);
}

void btcli_tmerc_fwd(const btcli_tmerc *t, double lon, double lat, double *x, double *y)
{
    series s;
    series_init(&s);
    fwd_raw(&s, t->lon0, lon, lat, x, y);
    *y -= t->y0;
}

void btcli_tmerc_inv(const btcli_tmerc *t, double x, double y, double *lon, double *lat)
{
    series s;
    series_init(&s);
    double xi = (y + t->y0) / s.A, eta = x / s.A;
    double xp = xi, ep = eta;
    for (int j = 1; j <= 3; j++) {
        xp -= s.beta[j - 1] * sin(2 * j * xi) * cosh(2 * j * eta);
        ep -= s.beta[j - 1] * cos(2 * j * xi) * sinh(2 * j * eta);
    }
    double chi = asin(sin(xp) / cosh(ep));
    double phi = chi;
    for (int j = 1; j <= 3; j++) phi += s.delta[j - 1] * sin(2 * j * chi);
    *lat = phi * 180.0 / BTCLI_PI;
    *lon = t->lon0 + atan2(sinh(ep), cos(xp)) * 180.0 / BTCLI_PI;
}
