/* libFuzzer target: walsender CopyData and pgoutput messages (readers/pgoutput.c). */
#include <stddef.h>
#include <stdint.h>

#include "../../readers/pgoutput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pgout_copydata cd;
    struct pgout_msg m;
    struct error err;
    pgout_msg_init(&m);
    if (pgout_parse_copydata(data, size, &cd, &err) == 0 && cd.kind == 'w' &&
        pgout_parse(cd.data, cd.len, &m, &err) == 0 && m.type == PGOUT_RELATION)
        err.msg[0] = 0;
    pgout_msg_cleanup(&m);
    return 0;
}
