/*
 * pg_capture: records the raw CopyData frames a PostgreSQL walsender sends for a logical slot
 * (pgoutput, protocol version 1), one record per frame: a 4-byte big-endian length, then the
 * frame. Used to make the fixtures of tests/fixtures/pgoutput/ and the fuzz corpus.
 *   pg_capture CONNINFO SLOT PUBLICATION OUTFILE IDLE_SECONDS
 * Stops once IDLE_SECONDS pass without an XLogData frame. A test tool, not part of dbtail.
 */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: pg_capture CONNINFO SLOT PUBLICATION OUTFILE IDLE_SECONDS\n");
        return 2;
    }
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "pg_capture: %s", PQerrorMessage(conn));
        return 1;
    }
    char sql[512];
    snprintf(sql, sizeof sql,
             "START_REPLICATION SLOT %s LOGICAL 0/0 (proto_version '1', publication_names "
             "'%s', messages 'true')",
             argv[2], argv[3]);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_BOTH) {
        fprintf(stderr, "pg_capture: %s", PQerrorMessage(conn));
        return 1;
    }
    PQclear(res);
    FILE *out = fopen(argv[4], "wb");
    if (out == NULL) {
        perror(argv[4]);
        return 1;
    }
    int idle = atoi(argv[5]);
    time_t last = time(NULL);
    for (;;) {
        char *buf;
        int n = PQgetCopyData(conn, &buf, 1);
        if (n > 0) {
            unsigned char hdr[4];
            put_be32(hdr, (uint32_t)n);
            fwrite(hdr, 1, 4, out);
            fwrite(buf, 1, (size_t)n, out);
            if (buf[0] == 'w')
                last = time(NULL);
            PQfreemem(buf);
            continue;
        }
        if (n < 0)
            break;
        if (time(NULL) - last >= idle)
            break;
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(PQsocket(conn), &fds);
        struct timeval tv = {0, 200000};
        select(PQsocket(conn) + 1, &fds, NULL, NULL, &tv);
        if (!PQconsumeInput(conn))
            break;
    }
    fclose(out);
    PQfinish(conn);
    return 0;
}
