/* event: names of the event model's enumerations (see event.h). */
#include "event.h"

const char *event_op_code(enum event_op op)
{
    switch (op) {
    case EVENT_CREATE:
        return "c";
    case EVENT_UPDATE:
        return "u";
    case EVENT_DELETE:
        return "d";
    case EVENT_READ:
        return "r";
    case EVENT_TRUNCATE:
        return "t";
    case EVENT_DDL:
    case EVENT_HEARTBEAT:
    case EVENT_COMMIT:
        break;
    }
    return NULL;
}

const char *event_snapshot_name(enum event_snapshot s)
{
    static const char *const names[] = {"false", "true", "first", "first_in_data_collection",
                                        "last_in_data_collection", "last", "incremental"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "false";
}

const char *event_connector_name(enum event_connector c)
{
    switch (c) {
    case EVENT_POSTGRESQL:
        return "postgresql";
    case EVENT_MYSQL:
        return "mysql";
    case EVENT_MARIADB:
        return "mariadb";
    }
    return "unknown";
}
