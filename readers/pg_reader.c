/* SCAFFOLD: replaced by the PostgreSQL reader's owner; it only keeps the tree linking meanwhile. */
#include "reader.h"

int pg_reader_new(const struct config *cfg, enum reader_mode mode, struct reader **out, struct error *err)
{
    (void)cfg; (void)mode; (void)out;
    return error_set(err, "the PostgreSQL reader is not built yet");
}
