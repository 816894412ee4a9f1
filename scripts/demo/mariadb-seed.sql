-- The demo's MariaDB source: a small shop. Rows are generated with the Sequence engine
-- (seq_1_to_N), so the seed is the same on every run.
CREATE DATABASE ecommerce_db;
USE ecommerce_db;

CREATE TABLE users (
    user_id    INT AUTO_INCREMENT PRIMARY KEY,
    username   VARCHAR(50)  NOT NULL,
    email      VARCHAR(100) NOT NULL,
    city       VARCHAR(50),
    is_active  TINYINT(1)   NOT NULL DEFAULT 1,
    created_at DATETIME(6)  NOT NULL
) ENGINE = InnoDB;

CREATE TABLE orders (
    order_id   INT AUTO_INCREMENT PRIMARY KEY,
    user_id    INT           NOT NULL,
    amount     DECIMAL(10,2) NOT NULL,
    status     VARCHAR(20)   NOT NULL,
    created_at DATETIME(6)   NOT NULL,
    KEY (user_id)
) ENGINE = InnoDB;

INSERT INTO users (user_id, username, email, city, is_active, created_at)
SELECT seq,
       CONCAT('user_', seq),
       CONCAT('user_', seq, '@example.com'),
       ELT(1 + seq % 6, 'Jakarta', 'Bandung', 'Surabaya', 'Medan', 'Denpasar', 'Makassar'),
       seq % 17 <> 0,
       TIMESTAMP '2025-01-01 08:00:00' + INTERVAL seq * 7 MINUTE + INTERVAL seq * 1237 % 1000000 MICROSECOND
FROM seq_1_to_3000;

INSERT INTO orders (order_id, user_id, amount, status, created_at)
SELECT seq,
       1 + seq * 7 % 3000,
       ROUND(5 + seq * 7919 % 250000 / 100, 2),
       ELT(1 + seq % 4, 'pending', 'paid', 'shipped', 'delivered'),
       TIMESTAMP '2025-02-01 00:00:00' + INTERVAL seq * 3 MINUTE + INTERVAL seq * 7919 % 1000000 MICROSECOND
FROM seq_1_to_5000;
