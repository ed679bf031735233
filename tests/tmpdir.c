/* tmpdir.c: scratch folders for tests, under one folder per test that the runner removes when the test ends. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tests/test.h"

/* Made by the runner before it forks a test and removed after the test's process has ended, so
 * nothing is left behind whether the test passes, fails, skips or crashes. */
static char g_root[64];

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

void test_remove_tree(const char *dir) {
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) printf("    could not remove %s\n", dir);
}

void test_tmp_begin(void) {
    snprintf(g_root, sizeof g_root, "/tmp/rune_test_XXXXXX");
    if (!mkdtemp(g_root)) g_root[0] = 0;
}

void test_tmp_end(void) {
    if (g_root[0]) test_remove_tree(g_root);
    g_root[0] = 0;
}

void test_tmp_take(char *dst, size_t cap) {
    snprintf(dst, cap, "%s", g_root);
    g_root[0] = 0;
}

const char *test_temp_dir(const char *tag) {
    static char dirs[8][128];
    static int k;
    char *d = dirs[k++ & 7];
    if (!g_root[0]) SKIP("cannot make a temp folder");
    snprintf(d, sizeof dirs[0], "%s/%.20s_XXXXXX", g_root, tag);
    if (!mkdtemp(d)) SKIP("cannot make a temp folder");
    return d;
}
