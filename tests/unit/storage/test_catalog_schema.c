/* SPDX-License-Identifier: MIT */
/*
 * Tests of storage/catalog_schema.c: the segment statuses as SQL text
 * (CATALOG_SQL_SEG) mean what enum catalog_seg_status says, and the
 * schema a new file gets spells them as the released migration steps did,
 * since SQLite keeps index and trigger SQL as written.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "storage/catalog.h"
#include "storage/catalog_int.h"

/* Evaluates one SQL expression to an integer on a scratch connection. */
static int64_t eval(sqlite3 *db, const char *expr)
{
    char sql[256];
    sqlite3_stmt *st;
    int64_t v;

    snprintf(sql, sizeof(sql), "SELECT %s", expr);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(st, 0), SQLITE_INTEGER);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_catalog_schema_status_sql(void **state)
{
    static const struct {
        const char *sql;
        enum catalog_seg_status status;
        int usable;
    } statuses[] = {
        {CATALOG_SQL_SEG(OPEN), CATALOG_SEG_OPEN, 1},
        {CATALOG_SQL_SEG(CLOSED), CATALOG_SEG_CLOSED, 1},
        {CATALOG_SQL_SEG(MISSING), CATALOG_SEG_MISSING, 0},
        {CATALOG_SQL_SEG(DELETING), CATALOG_SEG_DELETING, 0},
    };
    char expr[64];
    sqlite3 *db;

    (void)state;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    for (size_t i = 0; i < NVR_ARRAY_SIZE(statuses); i++) {
        assert_int_equal(eval(db, statuses[i].sql), statuses[i].status);
        snprintf(expr, sizeof(expr), "%s IN %s", statuses[i].sql,
                 CATALOG_SQL_SEG_USABLE);
        assert_int_equal(eval(db, expr), statuses[i].usable);
    }
    sqlite3_close(db);
    assert_string_equal(CATALOG_SQL_SEG_USABLE, "(0, 1)");
}

/* The stored SQL of one schema object of a new catalog. */
static char *schema_sql(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    char *sql;

    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT sql FROM sqlite_master"
                                        " WHERE name = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    sql = strdup((const char *)sqlite3_column_text(st, 0));
    assert_non_null(sql);
    sqlite3_finalize(st);
    return sql;
}

static void test_catalog_schema_status_text(void **state)
{
    char dir[] = "/tmp/nvr-test-schema-XXXXXX", path[64], cmd[96];
    struct catalog *cat;
    sqlite3 *db;
    char *sql;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/catalog.db", dir);
    assert_int_equal(catalog_open(path, CATALOG_READWRITE, &cat), 0);
    catalog_close(cat);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);

    /* The partial indexes, exactly as steps 0 -> 1 and 2 -> 3 wrote them:
     * queries must repeat their WHERE term for SQLite to use them. */
    sql = schema_sql(db, "segments_open");
    assert_string_equal(sql, "CREATE INDEX segments_open"
                             " ON segments(camera_id, start_us)"
                             " WHERE status = 0");
    free(sql);
    sql = schema_sql(db, "segments_deleting");
    assert_string_equal(sql, "CREATE INDEX segments_deleting"
                             " ON segments(camera_id, start_us)"
                             " WHERE status = 3");
    free(sql);
    sql = schema_sql(db, "segments_runs_insert");
    assert_non_null(strstr(sql, " WHEN NEW.status IN (0, 1) BEGIN "));
    free(sql);
    sql = schema_sql(db, "segments_runs_update");
    assert_non_null(
        strstr(sql, " WHEN OLD.status IN (0, 1) OR NEW.status IN (0, 1)"));
    free(sql);
    sqlite3_close(db);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_schema_status_sql),
        cmocka_unit_test(test_catalog_schema_status_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
