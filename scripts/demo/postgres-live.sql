-- Live changes made while dbtail streams: inserts, updates and deletes in three transactions.
BEGIN;
INSERT INTO customers (full_name, email, country, vip) VALUES
    ('Ayu Lestari', 'ayu@example.com', 'ID', true),
    ('Wei Ling Tan', 'weiling@example.com', 'SG', false);
INSERT INTO transactions (customer_id, amount, currency, status, created_at)
SELECT customer_id, 249.99, 'SGD', 'authorized', now() FROM customers WHERE email = 'weiling@example.com';
COMMIT;

UPDATE transactions SET status = 'refunded' WHERE txn_id IN (5, 55, 555, 5555);
UPDATE customers SET vip = true, country = 'MY' WHERE customer_id = 99;

BEGIN;
DELETE FROM transactions WHERE txn_id IN (11, 22, 33);
DELETE FROM transactions WHERE customer_id = 2999;
COMMIT;
