/**
 * @file test_hardening.c
 * @brief Checks that the hardening flags of CMakeLists.txt reach the shared library:
 * the stack protector (__stack_chk_fail is imported), _FORTIFY_SOURCE (checked
 * __*_chk variants are imported; optimised, non-sanitizer builds only, as CMake adds
 * it only there), full RELRO (GNU_RELRO and BIND_NOW) and a non-executable stack.
 * Reads the library with readelf (binutils); skipped if readelf is missing.
 */
#define _DEFAULT_SOURCE /* readlink, popen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Sanitizer builds leave _FORTIFY_SOURCE out (CMakeLists.txt). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BT_NO_FORTIFY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BT_NO_FORTIFY 1
#endif
#endif

/* The shared library sits in the build directory, one level above this test. */
static int library_path(char *out, size_t n)
{
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    char *dir = dirname(exe);
    snprintf(out, n, "%s/../libbordertrack.so", dir);
    return access(out, R_OK);
}

/* Runs readelf with @p opts on the library; returns its whole output (caller frees). */
static char *readelf(const char *opts, const char *lib)
{
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "readelf %s '%s' 2>/dev/null", opts, lib);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + len, 1, cap - len, p)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
    }
    int st = pclose(p);
    if (buf)
        buf[len] = '\0';
    if (st != 0 || len == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void test_shared_library_is_hardened(void **state)
{
    (void)state;
    char lib[4200];
    if (library_path(lib, sizeof lib) != 0 || system("readelf --version >/dev/null 2>&1") != 0)
        skip();
    char *syms = readelf("-W --dyn-syms", lib);
    assert_non_null(syms);
    if (!strstr(syms, "__stack_chk_fail"))
        fail_msg("%s: no __stack_chk_fail: -fstack-protector-strong not applied", lib);
#if defined(__OPTIMIZE__) && !defined(BT_NO_FORTIFY)
    if (!strstr(syms, "_chk@"))
        fail_msg("%s: no __*_chk symbol: _FORTIFY_SOURCE not applied", lib);
    print_message("fortified calls: %s%s%s\n", strstr(syms, "__snprintf_chk") ? "snprintf " : "",
                  strstr(syms, "__memcpy_chk") ? "memcpy " : "",
                  strstr(syms, "__vsnprintf_chk") ? "vsnprintf" : "");
#endif
    free(syms);
    char *dyn = readelf("-W -d", lib);
    assert_non_null(dyn);
    if (!strstr(dyn, "BIND_NOW") && !strstr(dyn, "NOW"))
        fail_msg("%s: not linked with -z now", lib);
    free(dyn);
    char *ph = readelf("-W -l", lib);
    assert_non_null(ph);
    if (!strstr(ph, "GNU_RELRO"))
        fail_msg("%s: no GNU_RELRO segment", lib);
    const char *stack = strstr(ph, "GNU_STACK");
    assert_non_null(stack);
    const char *eol = strchr(stack, '\n');
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(eol ? eol - stack : 200), stack);
    if (strstr(line, "RWE"))
        fail_msg("%s: executable stack: %s", lib, line);
    free(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_library_is_hardened),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
