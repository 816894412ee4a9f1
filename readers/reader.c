/* reader: picks the implementation that connector.class names (see reader.h). */
#include "reader.h"

#include <string.h>

int reader_new(const struct config *cfg, enum reader_mode mode, struct reader **out,
               struct error *err)
{
    const char *cls;
    if (config_required(cfg, "connector.class", &cls, err) < 0)
        return -1;
    if (strcmp(cls, "io.debezium.connector.postgresql.PostgresConnector") == 0)
        return pg_reader_new(cfg, mode, out, err);
    if (strcmp(cls, "io.debezium.connector.mysql.MySqlConnector") == 0 ||
        strcmp(cls, "io.debezium.connector.mariadb.MariaDbConnector") == 0)
        return mysql_reader_new(cfg, mode, out, err);
    return error_set(err,
                     "connector.class: unknown connector \"%s\" (use "
                     "io.debezium.connector.postgresql.PostgresConnector, "
                     "io.debezium.connector.mysql.MySqlConnector or "
                     "io.debezium.connector.mariadb.MariaDbConnector)",
                     cls);
}

void reader_free(struct reader *rd)
{
    if (rd)
        rd->ops->free(rd);
}
