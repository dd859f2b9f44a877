/**
 * @file test_rng.h
 * @brief The tests' deterministic random numbers: splitmix64, so that every run draws
 * the same points, times and queries (a failure can be replayed).
 */
#ifndef BT_TEST_RNG_H
#define BT_TEST_RNG_H

#include <stdint.h>

/* The next 64 random bits of the stream whose state is *s. */
static inline uint64_t splitmix_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* A uniform double in [a, b) from the top 53 bits of the next draw. */
static inline double splitmix_unif(uint64_t *s, double a, double b)
{
    return a + (b - a) * ((double)(splitmix_next(s) >> 11) / 9007199254740992.0);
}

#endif
