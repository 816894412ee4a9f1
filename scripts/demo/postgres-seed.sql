-- The demo's PostgreSQL source: customers and their payments, generated with generate_series
-- so the seed is the same on every run.
CREATE TABLE customers (
    customer_id serial PRIMARY KEY,
    full_name   text        NOT NULL,
    email       text        NOT NULL UNIQUE,
    country     char(2)     NOT NULL,
    vip         boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE transactions (
    txn_id      bigserial PRIMARY KEY,
    customer_id int           NOT NULL REFERENCES customers,
    amount      numeric(12,2) NOT NULL,
    currency    char(3)       NOT NULL,
    status      text          NOT NULL,
    created_at  timestamptz   NOT NULL
);

INSERT INTO customers (full_name, email, country, vip, created_at)
SELECT 'Customer ' || g,
       'customer' || g || '@example.com',
       (ARRAY['ID', 'SG', 'MY', 'TH', 'VN', 'PH'])[1 + g % 6],
       g % 50 = 0,
       timestamptz '2025-01-01 00:00:00+00' + g * interval '97 minutes'
FROM generate_series(1, 3000) g;

INSERT INTO transactions (customer_id, amount, currency, status, created_at)
SELECT 1 + g * 13 % 3000,
       round((5 + g * 7919 % 500000 / 100.0)::numeric, 2),
       (ARRAY['IDR', 'SGD', 'USD'])[1 + g % 3],
       (ARRAY['authorized', 'captured', 'settled'])[1 + g % 3],
       timestamptz '2025-02-01 00:00:00+00' + g * interval '61 seconds'
FROM generate_series(1, 6000) g;
