/* schema: source table descriptions and their state-file JSON form (see schema.h). */
#include "schema.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../src/mem.h"

static const char *const kind_names[] = {
    [VALUE_NULL] = "null",
    [VALUE_ABSENT] = "absent",
    [VALUE_UNCHANGED] = "unchanged",
    [VALUE_BOOL] = "bool",
    [VALUE_INT] = "int",
    [VALUE_UINT] = "uint",
    [VALUE_FLOAT32] = "float32",
    [VALUE_FLOAT64] = "float64",
    [VALUE_DECIMAL] = "decimal",
    [VALUE_STRING] = "string",
    [VALUE_BYTES] = "bytes",
    [VALUE_JSON] = "json",
    [VALUE_BITS] = "bits",
    [VALUE_DATE] = "date",
    [VALUE_TIME] = "time",
    [VALUE_DATETIME] = "datetime",
    [VALUE_TIMESTAMP] = "timestamp",
    [VALUE_ZONED_TIME] = "zoned_time",
    [VALUE_INTERVAL] = "interval",
    [VALUE_ENUM] = "enum",
    [VALUE_SET] = "set",
    [VALUE_GEOMETRY] = "geometry",
    [VALUE_ARRAY] = "array",
    [VALUE_TEXT] = "text",
};

const char *schema_kind_name(enum value_kind kind)
{
    if ((unsigned)kind < sizeof kind_names / sizeof kind_names[0] && kind_names[kind])
        return kind_names[kind];
    return "unknown";
}

int schema_kind_parse(const char *name, enum value_kind *out)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (kind_names[i] && strcmp(kind_names[i], name) == 0) {
            *out = (enum value_kind)i;
            return 0;
        }
    }
    return -1;
}

/* Readers build tables on their own threads. */
static atomic_uint_fast64_t generations;

static uint64_t next_generation(void)
{
    return (uint64_t)atomic_fetch_add(&generations, 1) + 1;
}

struct schema_table *schema_table_new(const char *db, const char *schema, const char *name)
{
    struct schema_table *t = mem_calloc(1, sizeof *t);
    t->generation = next_generation();
    t->db = mem_strdup(db);
    t->schema = mem_strdup(schema);
    t->name = mem_strdup(name);
    return t;
}

static void column_clear(struct schema_column *c)
{
    free(c->name);
    free(c->type_name);
    free(c->charset);
    free(c->default_value);
    for (size_t i = 0; i < c->n_enum_values; i++)
        free(c->enum_values[i]);
    free(c->enum_values);
}

void schema_table_free(struct schema_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->ncols; i++)
        column_clear(&t->cols[i]);
    free(t->cols);
    free(t->db);
    free(t->schema);
    free(t->name);
    free(t);
}

static void column_copy(struct schema_column *dst, const struct schema_column *src)
{
    *dst = *src;
    dst->name = mem_strdup(src->name);
    dst->type_name = mem_strdup(src->type_name);
    dst->charset = mem_strdup(src->charset);
    dst->default_value = mem_strdup(src->default_value);
    dst->enum_values = NULL;
    if (src->n_enum_values) {
        dst->enum_values = mem_alloc(src->n_enum_values * sizeof *dst->enum_values);
        for (size_t i = 0; i < src->n_enum_values; i++)
            dst->enum_values[i] = mem_strdup(src->enum_values[i]);
    }
}

struct schema_table *schema_table_copy(const struct schema_table *t)
{
    struct schema_table *c = schema_table_new(t->db, t->schema, t->name);
    c->source_id = t->source_id;
    c->ncols = t->ncols;
    c->cols = mem_calloc(t->ncols ? t->ncols : 1, sizeof *c->cols);
    for (size_t i = 0; i < t->ncols; i++)
        column_copy(&c->cols[i], &t->cols[i]);
    return c;
}

struct schema_column *schema_table_add_column(struct schema_table *t, const char *name,
                                              const char *type_name, enum value_kind kind)
{
    t->cols = mem_realloc(t->cols, (t->ncols + 1) * sizeof *t->cols);
    t->generation = next_generation();
    struct schema_column *c = &t->cols[t->ncols++];
    memset(c, 0, sizeof *c);
    c->name = mem_strdup(name);
    c->type_name = mem_strdup(type_name);
    c->kind = kind;
    c->elem_kind = VALUE_NULL;
    c->length = -1;
    c->precision = -1;
    c->scale = -1;
    c->optional = true;
    return c;
}

int schema_table_find(const struct schema_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

size_t schema_table_nkeys(const struct schema_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->ncols; i++)
        n += t->cols[i].key;
    return n;
}

static bool str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

bool schema_table_equal(const struct schema_table *a, const struct schema_table *b)
{
    if (a->ncols != b->ncols || !str_eq(a->db, b->db) || !str_eq(a->schema, b->schema) ||
        !str_eq(a->name, b->name))
        return false;
    for (size_t i = 0; i < a->ncols; i++) {
        const struct schema_column *x = &a->cols[i], *y = &b->cols[i];
        if (!str_eq(x->name, y->name) || !str_eq(x->type_name, y->type_name) ||
            x->kind != y->kind || x->elem_kind != y->elem_kind || x->int_bits != y->int_bits ||
            x->is_unsigned != y->is_unsigned || x->optional != y->optional || x->key != y->key ||
            x->length != y->length || x->precision != y->precision || x->scale != y->scale ||
            !str_eq(x->charset, y->charset) || x->n_enum_values != y->n_enum_values ||
            x->type_oid != y->type_oid)
            return false;
        for (size_t k = 0; k < x->n_enum_values; k++)
            if (strcmp(x->enum_values[k], y->enum_values[k]) != 0)
                return false;
    }
    return true;
}

static void set_str(json_t *o, const char *key, const char *value)
{
    if (value)
        json_object_set_new(o, key, json_string(value));
}

json_t *schema_table_to_json(const struct schema_table *t)
{
    json_t *o = json_object();
    set_str(o, "db", t->db);
    set_str(o, "schema", t->schema);
    set_str(o, "table", t->name);
    json_object_set_new(o, "source_id", json_integer((json_int_t)t->source_id));
    json_t *cols = json_array();
    for (size_t i = 0; i < t->ncols; i++) {
        const struct schema_column *c = &t->cols[i];
        json_t *jc = json_object();
        set_str(jc, "name", c->name);
        set_str(jc, "type", c->type_name);
        json_object_set_new(jc, "kind", json_string(schema_kind_name(c->kind)));
        if (c->kind == VALUE_ARRAY)
            json_object_set_new(jc, "elem_kind", json_string(schema_kind_name(c->elem_kind)));
        if (c->int_bits)
            json_object_set_new(jc, "int_bits", json_integer(c->int_bits));
        if (c->is_unsigned)
            json_object_set_new(jc, "unsigned", json_true());
        json_object_set_new(jc, "optional", json_boolean(c->optional));
        if (c->key)
            json_object_set_new(jc, "key", json_true());
        if (c->length >= 0)
            json_object_set_new(jc, "length", json_integer(c->length));
        if (c->precision >= 0)
            json_object_set_new(jc, "precision", json_integer(c->precision));
        if (c->scale >= 0)
            json_object_set_new(jc, "scale", json_integer(c->scale));
        set_str(jc, "charset", c->charset);
        set_str(jc, "default", c->default_value);
        if (c->type_oid)
            json_object_set_new(jc, "type_oid", json_integer(c->type_oid));
        if (c->n_enum_values) {
            json_t *ev = json_array();
            for (size_t k = 0; k < c->n_enum_values; k++)
                json_array_append_new(ev, json_string(c->enum_values[k]));
            json_object_set_new(jc, "enum_values", ev);
        }
        json_array_append_new(cols, jc);
    }
    json_object_set_new(o, "columns", cols);
    return o;
}

static int get_int(const json_t *o, const char *key, int64_t def, int64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v))
        return -1;
    *out = json_integer_value(v);
    return 0;
}

static const char *get_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

struct schema_table *schema_table_from_json(const json_t *j, struct error *err)
{
    const char *name = get_str(j, "table");
    const json_t *cols = json_object_get(j, "columns");
    int64_t source_id;

    if (!json_is_object(j) || name == NULL || !json_is_array(cols) ||
        get_int(j, "source_id", 0, &source_id) < 0) {
        error_set(err, "table schema is malformed: needs \"table\" and a \"columns\" array");
        return NULL;
    }
    struct schema_table *t = schema_table_new(get_str(j, "db"), get_str(j, "schema"), name);
    t->source_id = (uint64_t)source_id;
    size_t i;
    const json_t *jc;
    json_array_foreach(cols, i, jc)
    {
        const char *cname = get_str(jc, "name");
        const char *type = get_str(jc, "type");
        const char *kind = get_str(jc, "kind");
        enum value_kind k;
        int64_t bits, length, precision, scale, oid;
        if (cname == NULL || type == NULL || kind == NULL || schema_kind_parse(kind, &k) < 0 ||
            get_int(jc, "int_bits", 0, &bits) < 0 || get_int(jc, "length", -1, &length) < 0 ||
            get_int(jc, "precision", -1, &precision) < 0 || get_int(jc, "scale", -1, &scale) < 0 ||
            get_int(jc, "type_oid", 0, &oid) < 0) {
            error_set(err, "table %s: column %zu is malformed", name, i + 1);
            schema_table_free(t);
            return NULL;
        }
        struct schema_column *c = schema_table_add_column(t, cname, type, k);
        const char *elem = get_str(jc, "elem_kind");
        if (elem && schema_kind_parse(elem, &c->elem_kind) < 0) {
            error_set(err, "table %s: column %s has unknown element kind %s", name, cname, elem);
            schema_table_free(t);
            return NULL;
        }
        c->int_bits = (uint8_t)bits;
        c->is_unsigned = json_is_true(json_object_get(jc, "unsigned"));
        c->optional = !json_is_false(json_object_get(jc, "optional"));
        c->key = json_is_true(json_object_get(jc, "key"));
        c->length = (int32_t)length;
        c->precision = (int32_t)precision;
        c->scale = (int32_t)scale;
        c->type_oid = (uint32_t)oid;
        c->charset = mem_strdup(get_str(jc, "charset"));
        c->default_value = mem_strdup(get_str(jc, "default"));
        const json_t *ev = json_object_get(jc, "enum_values");
        if (json_is_array(ev) && json_array_size(ev) > 0) {
            c->n_enum_values = json_array_size(ev);
            c->enum_values = mem_calloc(c->n_enum_values, sizeof *c->enum_values);
            for (size_t k2 = 0; k2 < c->n_enum_values; k2++) {
                const char *label = json_string_value(json_array_get(ev, k2));
                c->enum_values[k2] = mem_strdup(label ? label : "");
            }
        }
    }
    return t;
}
