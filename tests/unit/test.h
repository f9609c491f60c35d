/* test.h: the unit-test harness. A test is a void function registered in
 * list.inc; TEST_ASSERT records a failure with file and line and goes on,
 * so one run reports every broken case of a table. */
#ifndef ROOST_TESTS_UNIT_TEST_H
#define ROOST_TESTS_UNIT_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A fresh empty directory under /tmp, removed when the test process ends. */
const char *test_tmpdir(void);

#define TEST_ASSERT(cond) do { \
	if (!(cond)) test_fail(__FILE__, __LINE__, "%s", #cond); \
} while (0)
/* For table-driven tests: names the case index. */
#define TEST_ASSERT_IDX(cond, idx) do { \
	if (!(cond)) test_fail(__FILE__, __LINE__, "case %zu: %s", \
	                       (size_t)(idx), #cond); \
} while (0)
#define TEST_ASSERT_STREQ(a, b) do { \
	const char *ta_ = (a), *tb_ = (b); \
	if (ta_ == NULL || tb_ == NULL || strcmp(ta_, tb_) != 0) \
		test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
		          #a, #b, ta_ ? ta_ : "(null)", tb_ ? tb_ : "(null)"); \
} while (0)
#define TEST_ASSERT_INTEQ(a, b) do { \
	long long ta_ = (long long)(a), tb_ = (long long)(b); \
	if (ta_ != tb_) \
		test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
		          #a, #b, ta_, tb_); \
} while (0)

#define TEST(name) void name(void);
#include "tests/unit/list.inc"
#undef TEST

#endif
