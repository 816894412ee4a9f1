-- Every column type dbtail decodes, for tests/integration/test_mysql_types.sh and
-- tests/fixtures/mysql/capture.sh. MariaDB adds a JSON column (see the end).
SET SESSION sql_mode = '';
SET SESSION time_zone = '+00:00';
CREATE DATABASE types;
CREATE TABLE types.all_types (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  dec1 DECIMAL(20,6), dec2 DECIMAL(5,0), dec3 DECIMAL(65,30) UNSIGNED,
  f FLOAT, d DOUBLE,
  b1 BIT(1), b10 BIT(10), b64 BIT(64),
  y YEAR, dt DATE, dtn DATE NOT NULL DEFAULT '2000-01-01',
  t0 TIME, t6 TIME(6), dtm0 DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6),
  ts0 TIMESTAMP NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL,
  c5 CHAR(5) CHARACTER SET utf8mb4, vc VARCHAR(100) CHARACTER SET utf8mb4,
  vcl VARCHAR(20) CHARACTER SET latin1, c300 CHAR(100) CHARACTER SET utf8mb4,
  tx TEXT CHARACTER SET utf8mb4, mtx MEDIUMTEXT CHARACTER SET utf8mb4,
  ttx TINYTEXT CHARACTER SET latin1,
  bn BINARY(4), vb VARBINARY(10), bl BLOB, lbl LONGBLOB,
  e ENUM('small','medium','large'), s SET('red','green','blue'),
  g GEOMETRY, p POINT
) ENGINE=InnoDB;
INSERT INTO types.all_types VALUES
 (1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12.5, 123, 1.000000000000000000000000000001,
  1.5, 2.25, 1, b'1010101010', b'1', 2024, '2024-02-29', '2024-03-01',
  '12:34:56', '-01:02:03.456789', '2024-02-29 12:34:56', '2024-02-29 12:34:56.789',
  '2024-02-29 12:34:56.789012', '2024-02-29 12:34:56', '2024-02-29 12:34:56.123456',
  'abc', 'plain ascii', CONCAT('caf', _latin1 x'E9'), 'x',
  'text', 'medium text', 'tiny',
  x'01020304', x'0a0b', x'00ff00', x'deadbeef',
  'medium', 'red,blue', ST_GeomFromText('LINESTRING(0 0,1 1,2 1)'), POINT(1.5, -2.5)),
 (2, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
  -9223372036854775808, 18446744073709551615,
  -12345678901234.123456, -99999, 99999999999999999999999999999999999.999999999999999999999999999999,
  -1.5e-10, 1.7976931348623157e308, 0, b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111',
  1901, '1000-01-01', '9999-12-31',
  '-838:59:59', '838:59:58.999999', '9999-12-31 23:59:59', '1000-01-01 00:00:00.001',
  '1970-01-01 00:00:00.000001', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999',
  'ab  ', CONCAT('emoji ', _utf8mb4 x'F09F9880', ' and ', _utf8mb4 x'C3A9'), CONCAT('euro ', _latin1 x'80'), REPEAT('z', 100),
  REPEAT('long ', 2000), '', NULL,
  x'0001', x'', x'', x'',
  'large', '', ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'), POINT(0, 0)),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2000-01-01',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '0000-00-00', '0000-00-00',
  '00:00:00', '00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000',
  '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
  '', '', '', '', '', '', '', x'', x'', x'', x'', '', '', NULL, NULL);
UPDATE types.all_types SET vc = 'updated', d = -0.0, dec1 = 0.000001, t0 = '-00:00:01',
  dtm6 = '2001-02-03 04:05:06.000007', s = 'green' WHERE id = 1;
UPDATE types.all_types SET id = 20, ti = 127 WHERE id = 2;
DELETE FROM types.all_types WHERE id = 3;
INSERT INTO types.all_types (id, vc) VALUES (5, 'five'), (6, 'six'), (7, 'seven');
UPDATE types.all_types SET vc = CONCAT(vc, '!') WHERE id >= 5;
DELETE FROM types.all_types WHERE id = 6;
-- Types a binlog without column metadata (MySQL 5.6) decodes the same offline.
CREATE TABLE types.simple (
  id INT NOT NULL PRIMARY KEY, i INT, bi BIGINT, dc DECIMAL(10,3), db DOUBLE, dt DATE,
  dtm DATETIME(6), t TIME(3), ts TIMESTAMP(3) NULL DEFAULT NULL, vc VARCHAR(20)
) ENGINE=InnoDB;
INSERT INTO types.simple VALUES
 (1, -7, 9007199254740993, -1234567.891, 0.1, '2023-12-31', '2023-12-31 23:59:59.999999',
  '-10:00:00.5', '2023-06-01 00:00:00.001', 'ascii'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE types.simple SET i = i * 2, vc = 'changed' WHERE id = 1;
DELETE FROM types.simple WHERE id = 2;
