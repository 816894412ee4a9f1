/* Unit tests of sinks/doris_http: Doris reply parsers and load labels. The replies are the
 * shapes Doris's sources write (stream_load_context.cpp to_json, LoadAction's RestBaseResult,
 * RestApiExceptionHandler, stream_load_2pc.cpp, StmtExecutionAction) as the Doris manual shows
 * them; tests/fuzz/corpus/fuzz_doris_reply holds the same bodies. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "../../sinks/doris_http.h"
#include "unit.h"

static int parse_load(const char *body, struct doris_load_reply *r)
{
    struct error err;
    return doris_load_reply_parse(body, strlen(body), r, &err);
}

static void test_load_success(void)
{
    struct doris_load_reply r;
    const char *body =
        "{\n    \"TxnId\": 1003,\n    \"Label\": \"b6f3bc78\",\n"
        "    \"TwoPhaseCommit\": \"false\",\n    \"Status\": \"Success\",\n"
        "    \"Message\": \"OK\",\n    \"NumberTotalRows\": 1000000,\n"
        "    \"NumberLoadedRows\": 1000000,\n    \"NumberFilteredRows\": 1,\n"
        "    \"NumberUnselectedRows\": 0,\n    \"LoadBytes\": 40888898,\n"
        "    \"ErrorURL\": \"http://192.168.1.1:8042/api/_load_error_log?file=x\"\n}";
    CHECK_INT(parse_load(body, &r), 0);
    CHECK_INT(r.status, DORIS_LOAD_SUCCESS);
    CHECK_INT(r.txn_id, 1003);
    CHECK(!r.two_phase);
    CHECK(!r.unauthorized);
    CHECK_INT(r.total_rows, 1000000);
    CHECK_INT(r.filtered_rows, 1);
    CHECK_STR(r.message, "OK");
    CHECK_STR(r.error_url, "http://192.168.1.1:8042/api/_load_error_log?file=x");

    CHECK_INT(parse_load("{\"TxnId\":7,\"TwoPhaseCommit\":\"true\",\"Status\":\"Success\","
                         "\"Message\":\"OK\"}",
                         &r),
              0);
    CHECK(r.two_phase);
    CHECK_INT(parse_load("{\"TxnId\":8,\"Status\":\"Publish Timeout\",\"Message\":\"[PUBLISH_"
                         "TIMEOUT]TStatus: transaction commit successfully, BUT data will be "
                         "visible later\"}",
                         &r),
              0);
    CHECK_INT(r.status, DORIS_LOAD_PUBLISH_TIMEOUT);
}

static void test_label_exists(void)
{
    struct doris_load_reply r;
    CHECK_INT(parse_load("{\"TxnId\":-1,\"Label\":\"l1\",\"Status\":\"Label Already Exists\","
                         "\"ExistingJobStatus\":\"RUNNING\",\"Message\":\"[LABEL_ALREADY_EXISTS]"
                         "TStatus: errCode = 2, detailMessage = Label [l1] has already been "
                         "used, relate to txn [4211]\"}",
                         &r),
              0);
    CHECK_INT(r.status, DORIS_LOAD_LABEL_EXISTS);
    CHECK_INT(r.existing, DORIS_JOB_RUNNING);
    CHECK_INT(r.txn_id, 4211);

    CHECK_INT(parse_load("{\"Status\":\"Label Already Exists\",\"ExistingJobStatus\":\"FINISHED\","
                         "\"Message\":\"Label [l1] has already been used, relate to txn [9]\"}",
                         &r),
              0);
    CHECK_INT(r.existing, DORIS_JOB_FINISHED);
    CHECK_INT(r.txn_id, 9);

    /* a message that does not name the transaction leaves it unknown */
    CHECK_INT(parse_load("{\"Status\":\"Label Already Exists\",\"ExistingJobStatus\":"
                         "\"PRECOMMITTED\",\"Message\":\"relate to txn [x]\"}",
                         &r),
              0);
    CHECK_INT(r.existing, DORIS_JOB_OTHER);
    CHECK_INT(r.txn_id, -1);
}

static void test_load_failures(void)
{
    struct doris_load_reply r;
    CHECK_INT(parse_load("{\"TxnId\":12,\"Status\":\"Fail\",\"Message\":\"[DATA_QUALITY_ERROR]"
                         "too many filtered rows\",\"NumberTotalRows\":2,\"NumberFilteredRows\":1,"
                         "\"ErrorURL\":\"http://be:8040/api/_load_error_log?file=f\"}",
                         &r),
              0);
    CHECK_INT(r.status, DORIS_LOAD_FAIL);
    CHECK(!r.unauthorized);
    CHECK_INT(r.filtered_rows, 1);

    /* a BE reached without credentials (a redirect followed without them) */
    CHECK_INT(parse_load("{\"Status\":\"Fail\",\"Message\":\"[NOT_AUTHORIZED]no valid Basic "
                         "authorization\"}",
                         &r),
              0);
    CHECK(r.unauthorized);

    /* the FE itself: RestApiExceptionHandler and RestBaseResult */
    CHECK_INT(parse_load("{\"msg\":\"Unauthorized\",\"code\":401,\"data\":\"Access denied for "
                         "user 'root@127.0.0.1' (using password: YES)\",\"count\":0}",
                         &r),
              0);
    CHECK_INT(r.status, DORIS_LOAD_FE_ERROR);
    CHECK(r.unauthorized);
    CHECK_INT(parse_load("{\"status\":\"FAILED\",\"msg\":\"There is no 100-continue header\"}", &r),
              0);
    CHECK_INT(r.status, DORIS_LOAD_FE_ERROR);
    CHECK(!r.unauthorized);
    CHECK_STR(r.message, "There is no 100-continue header");

    /* control characters never reach a log line */
    CHECK_INT(parse_load("{\"Status\":\"Fail\",\"Message\":\"a\\nb\\u001bc\"}", &r), 0);
    CHECK_STR(r.message, "a b c");

    struct error err;
    CHECK(doris_load_reply_parse("<html>502</html>", 16, &r, &err) < 0);
    CHECK(doris_load_reply_parse("[1]", 3, &r, &err) < 0);
    CHECK(doris_load_reply_parse("{\"x\":1}", 7, &r, &err) < 0);
    CHECK(doris_load_reply_parse("", 0, &r, &err) < 0);
}

/* The outcome, or -1 when the body is not a reply. */
static int txn(const char *body, char *msg)
{
    enum doris_txn_outcome out = DORIS_TXN_FAILED;
    struct error err;
    if (doris_txn_reply_parse(body, strlen(body), &out, msg, DORIS_MSG_MAX, &err) < 0)
        return -1;
    return (int)out;
}

static void test_two_phase_replies(void)
{
    char msg[DORIS_MSG_MAX];
    CHECK_INT(
        txn("{\"status\":\"Success\",\"msg\":\"transaction [18] commit successfully.\"}", msg),
        DORIS_TXN_DONE);
    CHECK_STR(msg, "transaction [18] commit successfully.");
    CHECK_INT(txn("{\"status\":\"ANALYSIS_ERROR\",\"msg\":\"TStatus: errCode = 2, detailMessage = "
                  "transaction [18] is already visible, not pre-committed.\"}",
                  msg),
              DORIS_TXN_ALREADY_COMMITTED);
    CHECK_INT(txn("{\"status\":\"Fail\",\"msg\":\"transaction [18] is already COMMITTED, could "
                  "not abort.\"}",
                  msg),
              DORIS_TXN_ALREADY_COMMITTED);
    CHECK_INT(txn("{\"status\":\"ANALYSIS_ERROR\",\"msg\":\"TStatus: errCode = 2, detailMessage = "
                  "transaction [18] is already aborted. abort reason: timeout by txn manager\"}",
                  msg),
              DORIS_TXN_ALREADY_ABORTED);
    CHECK_INT(txn("{\"status\":\"ANALYSIS_ERROR\",\"msg\":\"transaction [99] not found.\"}", msg),
              DORIS_TXN_NOT_FOUND);
    CHECK_INT(txn("{\"msg\":\"Unauthorized\",\"code\":401,\"data\":\"x\",\"count\":0}", msg),
              DORIS_TXN_UNAUTHORIZED);
    CHECK_INT(txn("{\"status\":\"INTERNAL_ERROR\",\"msg\":\"THRIFT_RPC_ERROR\"}", msg),
              DORIS_TXN_FAILED);
    CHECK_INT(txn("Internal Server Error", msg), -1);
}

static void test_sql_replies(void)
{
    struct doris_sql_reply r;
    struct error err;
    const char *rs = "{\"data\":{\"type\":\"result_set\",\"meta\":[{\"name\":\"Field\",\"type\":"
                     "\"VARCHAR\"}],\"data\":[[\"id\"],[\"v\"]],\"time\":3},\"msg\":\"success\","
                     "\"code\":0}";
    CHECK_INT(doris_sql_reply_parse(rs, strlen(rs), &r, &err), 0);
    CHECK_INT(r.code, 0);
    CHECK(r.rows != NULL);
    CHECK_INT(json_array_size(r.rows), 2);
    CHECK_STR(json_string_value(json_array_get(json_array_get(r.rows, 1), 0)), "v");
    doris_sql_reply_clear(&r);

    const char *ex = "{\"msg\":\"success\",\"code\":0,\"data\":{\"type\":\"exec_status\","
                     "\"status\":{},\"time\":1}}";
    CHECK_INT(doris_sql_reply_parse(ex, strlen(ex), &r, &err), 0);
    CHECK_INT(r.code, 0);
    CHECK(r.rows == NULL);
    doris_sql_reply_clear(&r);

    const char *bad = "{\"msg\":\"Error\",\"code\":1,\"data\":\"Failed to execute sql: "
                      "java.sql.SQLException: (conn=3) errCode = 2, detailMessage = Unknown "
                      "table 'x'\",\"count\":0}";
    CHECK_INT(doris_sql_reply_parse(bad, strlen(bad), &r, &err), 0);
    CHECK_INT(r.code, 1);
    CHECK(strstr(r.msg, "Unknown table 'x'") != NULL);
    doris_sql_reply_clear(&r);

    const char *auth = "{\"msg\":\"Unauthorized\",\"code\":401,\"data\":\"Access denied\","
                       "\"count\":0}";
    CHECK_INT(doris_sql_reply_parse(auth, strlen(auth), &r, &err), 0);
    CHECK_INT(r.code, 401);
    doris_sql_reply_clear(&r);

    CHECK(doris_sql_reply_parse("{}", 2, &r, &err) < 0);
}

static bool label_valid(const char *label)
{
    regex_t re;
    CHECK(regcomp(&re, "^[-_A-Za-z0-9:]{1,128}$", REG_EXTENDED | REG_NOSUB) == 0);
    bool ok = regexec(&re, label, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static void test_labels(void)
{
    char l[DORIS_LABEL_MAX + 1];
    doris_label(l, "inventory-connector", "orders", 100, 250, 0xabcULL);
    CHECK_STR(l, "inventory-connector_orders_100_250_0000000000000abc");
    CHECK(label_valid(l));

    doris_label(l, "my app", "tbl.é", 1, 1, 1);
    CHECK_STR(l, "my_app_tbl____1_1_0000000000000001");
    CHECK(label_valid(l));

    /* over-long names give a label of exactly the limit, unique by a hash of both names */
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    doris_label(l, "dbtail", longname, UINT64_MAX, UINT64_MAX, UINT64_MAX);
    CHECK(label_valid(l));
    CHECK_INT(strlen(l), DORIS_LABEL_MAX);
    char l2[DORIS_LABEL_MAX + 1];
    longname[200] = 'y';
    doris_label(l2, "dbtail", longname, UINT64_MAX, UINT64_MAX, UINT64_MAX);
    CHECK(label_valid(l2));
    CHECK(strcmp(l, l2) != 0);

    CHECK(doris_hash(DORIS_HASH_INIT, "a", 1) != doris_hash(DORIS_HASH_INIT, "b", 1));
    CHECK(doris_hash(DORIS_HASH_INIT, "", 0) == DORIS_HASH_INIT);
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"load success", test_load_success},
        {"label already exists", test_label_exists},
        {"load failures", test_load_failures},
        {"two-phase commit replies", test_two_phase_replies},
        {"sql replies", test_sql_replies},
        {"labels", test_labels},
        {NULL, NULL},
    };
    return unit_main("doris_http", cases, argc, argv);
}
