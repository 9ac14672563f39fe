-- Churn features without leakage: every feature comes from what was known on the cutoff
-- date (2026-08-22, 90 days before the data ends on 2026-11-20), and the label is whether
-- the user churned in the 90 days after it. Only users who signed up at least 30 days
-- before the cutoff and had not churned by then are scored. Rows are ordered by user_id so
-- the model's split is the same on every run. Input q1 of examples/sandbox/churn_model.py.
WITH activity AS (
    SELECT user_id,
           COUNT(*) AS events,
           COUNT(DISTINCT session_id) AS sessions,
           SUM(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS purchases,
           SUM(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS carts,
           SUM(CASE WHEN event_type = 'search' THEN 1 ELSE 0 END) AS searches,
           COUNT(DISTINCT category) AS categories,
           AVG(duration_seconds) AS avg_duration_s,
           COALESCE(SUM(revenue), 0) AS revenue,
           DATE_DIFF('day', MAX(occurred_at), TIMESTAMP '2026-08-22') AS days_since_last
    FROM interactions
    WHERE occurred_at < TIMESTAMP '2026-08-22'
    GROUP BY user_id
)
SELECT u.user_id, u.age, u.plan, u.device, u.acquisition_channel,
       DATE_DIFF('day', u.signup_date, DATE '2026-08-22') AS tenure_days,
       COALESCE(a.events, 0) AS events, COALESCE(a.sessions, 0) AS sessions,
       COALESCE(a.purchases, 0) AS purchases, COALESCE(a.carts, 0) AS carts,
       COALESCE(a.searches, 0) AS searches, COALESCE(a.categories, 0) AS categories,
       COALESCE(a.avg_duration_s, 0) AS avg_duration_s, COALESCE(a.revenue, 0) AS revenue,
       COALESCE(a.days_since_last, 9999) AS days_since_last,
       CASE WHEN u.churned_at < DATE '2026-11-20' THEN 1 ELSE 0 END AS churned
FROM users u LEFT JOIN activity a ON a.user_id = u.user_id
WHERE u.signup_date < DATE '2026-07-23'
  AND (u.churned_at IS NULL OR u.churned_at >= DATE '2026-08-22')
ORDER BY u.user_id
