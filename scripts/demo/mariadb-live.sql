-- Live changes made while dbtail streams: inserts, updates (one changes no key, one many rows)
-- and deletes, in three transactions.
USE ecommerce_db;

START TRANSACTION;
INSERT INTO users (username, email, city, created_at) VALUES
    ('budi_dev', 'budi@example.com', 'Jakarta', NOW(6)),
    ('siti_ops', 'siti@example.com', 'Bandung', NOW(6)),
    ('andi_qa', 'andi@example.com', 'Yogyakarta', NOW(6));
INSERT INTO orders (user_id, amount, status, created_at)
SELECT user_id, 125000.50, 'pending', NOW(6) FROM users WHERE username = 'budi_dev';
COMMIT;

UPDATE orders SET status = 'refunded' WHERE order_id IN (3, 33, 333, 3333);
UPDATE users SET city = 'Yogyakarta' WHERE user_id = 42;

START TRANSACTION;
DELETE FROM orders WHERE order_id IN (10, 20, 30);
DELETE FROM users WHERE user_id = 7;
COMMIT;
