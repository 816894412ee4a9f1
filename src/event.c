/* event: names of the event model's enumerations, and value comparison (see event.h). */
#include "event.h"

#include <string.h>

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
    static const char *const names[] = {
        "false", "true",       "first", "first_in_data_collection", "last_in_data_collection",
        "last",  "incremental"};
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

bool event_value_same(const struct value *a, const struct value *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case VALUE_NULL:
    case VALUE_ABSENT:
    case VALUE_UNCHANGED:
        return true;
    case VALUE_BOOL:
        return a->v.b == b->v.b;
    case VALUE_INT:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_DATETIME:
    case VALUE_TIMESTAMP:
        return a->v.i == b->v.i;
    case VALUE_UINT:
        return a->v.u == b->v.u;
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
        /* bits, not numbers: 0.0 and -0.0 render apart, and NaN is itself */
        return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    case VALUE_INTERVAL:
        return a->v.interval.months == b->v.interval.months &&
               a->v.interval.days == b->v.interval.days &&
               a->v.interval.micros == b->v.interval.micros;
    case VALUE_DECIMAL:
    case VALUE_STRING:
    case VALUE_BYTES:
    case VALUE_JSON:
    case VALUE_BITS:
    case VALUE_ZONED_TIME:
    case VALUE_ENUM:
    case VALUE_SET:
    case VALUE_GEOMETRY:
    case VALUE_TEXT:
        return a->v.s.len == b->v.s.len && a->v.s.i == b->v.s.i &&
               (a->v.s.len == 0 || memcmp(a->v.s.p, b->v.s.p, a->v.s.len) == 0);
    case VALUE_ARRAY:
        break;
    }
    return false;
}
