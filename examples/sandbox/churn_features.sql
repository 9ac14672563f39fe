-- Per-user engagement from the interactions table, with the user's plan and channel, and
-- whether the user churned. Run with examples/sandbox/churn_model.py as input q1.
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
           DATE_DIFF('day', MAX(occurred_at), TIMESTAMP '2026-11-20') AS days_since_last
    FROM interactions
    GROUP BY user_id
)
SELECT u.user_id, u.age, u.plan, u.device, u.acquisition_channel,
       COALESCE(a.events, 0) AS events, COALESCE(a.sessions, 0) AS sessions,
       COALESCE(a.purchases, 0) AS purchases, COALESCE(a.carts, 0) AS carts,
       COALESCE(a.searches, 0) AS searches, COALESCE(a.categories, 0) AS categories,
       COALESCE(a.avg_duration_s, 0) AS avg_duration_s, COALESCE(a.revenue, 0) AS revenue,
       COALESCE(a.days_since_last, 9999) AS days_since_last,
       CASE WHEN u.churned_at IS NULL THEN 0 ELSE 1 END AS churned
FROM users u LEFT JOIN activity a ON a.user_id = u.user_id
