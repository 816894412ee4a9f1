/* libFuzzer target: the parsers of Doris's HTTP replies (sinks/doris_http.c): Stream Load
 * results, two-phase commit results and SQL endpoint results, each fed the same bytes. */
#include <stddef.h>
#include <stdint.h>

#include "../../sinks/doris_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    struct error err;
    struct doris_load_reply load;
    (void)doris_load_reply_parse(body, size, &load, &err);
    enum doris_txn_outcome out;
    char msg[DORIS_MSG_MAX];
    (void)doris_txn_reply_parse(body, size, &out, msg, sizeof msg, &err);
    struct doris_sql_reply sql;
    if (doris_sql_reply_parse(body, size, &sql, &err) == 0)
        doris_sql_reply_clear(&sql);
    return 0;
}
