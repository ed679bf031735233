/* test.h: the tiny test framework — TEST() registers, EXPECT*() records failures, SKIP() skips. */
#pragma once
#include <math.h>
#include <stdio.h>

typedef void (*TestFn)(void);
void test_register(const char *name, const char *file, TestFn fn);
void test_fail_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
_Noreturn void test_skip(const char *why);
int test_failures(void);
/* For tests of the checkers themselves: takes back the failures recorded since `mark` (a value of
 * test_failures()) and returns how many there were, so a test can prove that a check fails. */
int test_take_failures(int mark);

/* Each test runs in its own forked process, so a crash fails that test alone. */
#define TEST(name)                                                                   \
    static void test_##name(void);                                                   \
    __attribute__((constructor)) static void register_##name(void) {                 \
        test_register(#name, __FILE__, test_##name);                                 \
    }                                                                                \
    static void test_##name(void)

#define EXPECT(cond, ...)                                                            \
    do {                                                                             \
        if (!(cond)) test_fail_at(__FILE__, __LINE__, "expected " #cond ": " __VA_ARGS__); \
    } while (0)

#define EXPECT_NEAR(a, b, tol)                                                       \
    do {                                                                             \
        double a_ = (a), b_ = (b);                                                   \
        if (!(fabs(a_ - b_) <= (tol)))                                               \
            test_fail_at(__FILE__, __LINE__, "%s = %.9g, %s = %.9g, |diff| %.3g > %.3g", #a, a_, #b, b_, \
                         fabs(a_ - b_), (double)(tol));                              \
    } while (0)

#define SKIP(why) test_skip(why)

/* Path of a shared data/weights file (../shared relative to the repo root, or $RUNE_SHARED);
 * SKIPs the test with a message when absent, as a user's clone has no shared/ folder. */
const char *test_shared_path(const char *rel);
/* A whole text file, malloc'ed and NUL-terminated (NULL if unreadable); tests compare logs with it. */
char *test_read_text(const char *path);

/* A fresh folder TAG_XXXXXX in the test's scratch folder, removed with its contents when the
 * test ends (SKIPs the test if it cannot be made). At most 8 live paths per test. */
const char *test_temp_dir(const char *tag);
/* Removes dir and everything below it now. */
void test_remove_tree(const char *dir);
/* The runner's side: the per-test scratch folder, made before a test and removed after it. */
void test_tmp_begin(void);
void test_tmp_end(void);
/* The runner's side when tests run side by side: hands the folder just made to the caller (who
 * removes it with test_remove_tree once the test has ended) and forgets it. */
void test_tmp_take(char *dst, size_t cap);

/* Path of a committed fixture under tests/fixtures (fails the test if it is missing). */
const char *test_fixture_path(const char *rel);
