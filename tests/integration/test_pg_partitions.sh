#!/usr/bin/env bash
# PostgreSQL partitioned tables published through their root (publish_via_partition_root): the
# snapshot reads the root's rows, which live in its partitions, and the stream names the root.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
start_postgres || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

psql_q "CREATE TABLE m (id int PRIMARY KEY, v int) PARTITION BY RANGE (id);
        CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (100);
        CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (100) TO (200);
        INSERT INTO m SELECT g, 0 FROM generate_series(1, 150) g;
        CREATE PUBLICATION dbz_publication FOR TABLE m WITH (publish_via_partition_root = true);" >/dev/null
pg_config_file "$W/c.json" snapshot.fetch.size=40
start_dbtail dbtail run -c "$W/c.json"
check "the snapshot ends" wait_for 60 grep -q '"phase": "stream"' "$W/offsets.json"
psql_q "UPDATE m SET v = 1 WHERE id IN (5, 150); INSERT INTO m VALUES (199, 2)"
check "every row of the partitioned table, read and streamed" wait_caught_up 30 m v
check_eq "no row read twice" "$(duplicates m)" 0
stop_dbtail
check_eq "clean stop" "$?" 0
