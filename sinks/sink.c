/* sink: picks the implementation a sink.type entry names (see sink.h). */
#include "sink.h"

#include <string.h>

int sink_new(const char *type, const struct config *cfg, const struct render *rd,
             const json_t *saved, struct sink **out, struct error *err)
{
    if (strcmp(type, "file") == 0)
        return sink_file_new(cfg, rd, saved, out, err);
    if (strcmp(type, "doris") == 0)
        return sink_doris_new(cfg, rd, saved, out, err);
    if (strcmp(type, "kafka") == 0)
        return sink_kafka_new(cfg, rd, saved, out, err);
    return error_set(err, "sink.type: unknown sink \"%s\" (use file, doris or kafka)", type);
}

void sink_free(struct sink *sk)
{
    if (sk)
        sk->ops->free(sk);
}
