/*
 * decode: `dbtail decode [--format debezium|flat] BINLOG_FILE...`, offline decoding of
 * MySQL/MariaDB binlog files with the reader's own parser, printed as JSON lines.
 */
#ifndef DBTAIL_DECODE_H
#define DBTAIL_DECODE_H

/** Runs the subcommand (argv[0] is "decode"); returns the process exit status. */
int decode_main(int argc, char **argv);

#endif
