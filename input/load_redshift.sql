-- Create the sample tables in Redshift and load the CSVs from S3.
-- Upload first:  aws s3 cp input/ s3://BUCKET/databot/input/ --recursive --exclude '*' --include '*.csv'
-- Then replace BUCKET, the region and the IAM role (it needs s3:GetObject on the prefix)
-- and run this file with any SQL client, e.g. psql or the Redshift query editor.
-- Types and descriptions match input/schema.yaml.

CREATE TABLE IF NOT EXISTS public.users (
    user_id             INTEGER      NOT NULL,
    signup_date         DATE         NOT NULL,
    country             VARCHAR(64)  NOT NULL,
    city                VARCHAR(64)  NOT NULL,
    age                 INTEGER      NOT NULL,
    gender              VARCHAR(16)  NOT NULL,
    plan                VARCHAR(16)  NOT NULL,
    acquisition_channel VARCHAR(16)  NOT NULL,
    device              VARCHAR(16)  NOT NULL,
    is_active           BOOLEAN      NOT NULL,
    churned_at          DATE,
    PRIMARY KEY (user_id)
)
DISTSTYLE ALL
SORTKEY (signup_date);

CREATE TABLE IF NOT EXISTS public.interactions (
    interaction_id   BIGINT        NOT NULL,
    user_id          INTEGER       NOT NULL REFERENCES public.users (user_id),
    occurred_at      TIMESTAMP     NOT NULL,
    event_type       VARCHAR(16)   NOT NULL,
    item_id          INTEGER       NOT NULL,
    category         VARCHAR(16)   NOT NULL,
    session_id       VARCHAR(32)   NOT NULL,
    device           VARCHAR(16)   NOT NULL,
    duration_seconds INTEGER       NOT NULL,
    revenue          DECIMAL(10,2),
    PRIMARY KEY (interaction_id)
)
DISTKEY (user_id)
SORTKEY (occurred_at);

COMMENT ON TABLE public.users IS 'One row per registered user (customer account), from sign-up to churn.';
COMMENT ON TABLE public.interactions IS 'One row per product event, grouped into sessions; revenue only on purchases.';

TRUNCATE public.interactions;
TRUNCATE public.users;

-- Empty fields are NULL (churned_at, revenue); timestamps are 'YYYY-MM-DD HH:MM:SS' UTC.
COPY public.users
FROM 's3://BUCKET/databot/input/users.csv'
IAM_ROLE 'arn:aws:iam::123456789012:role/RedshiftCopyRole'
REGION 'us-east-1'
FORMAT AS CSV
IGNOREHEADER 1
EMPTYASNULL
DATEFORMAT 'YYYY-MM-DD';

COPY public.interactions
FROM 's3://BUCKET/databot/input/interactions.csv'
IAM_ROLE 'arn:aws:iam::123456789012:role/RedshiftCopyRole'
REGION 'us-east-1'
FORMAT AS CSV
IGNOREHEADER 1
EMPTYASNULL
TIMEFORMAT 'YYYY-MM-DD HH:MI:SS';

ANALYZE public.users;
ANALYZE public.interactions;
