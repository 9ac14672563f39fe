"""A large warehouse's catalog, generated: 2,000 tables with realistic names, columns and
descriptions, for the catalog-build benchmark (bench/catalog.py) and the prompt's table
choice (bench/big_catalog.py and its tests).

About sixty curated tables across finance, marketing, product events, subscriptions,
support, HR, logistics and sales (among them the sample warehouse's `users` and
`interactions`, described as in input/schema.yaml), then the copies real warehouses
accumulate around them, with confusable names: staging and raw loads, per-region copies,
yearly archives, backups and rollups (`fct_orders` beside `stg_orders`, `orders_emea`,
`orders_archive_2019`, `agg_orders_monthly`), then departmental extracts
(`growth_leads_weekly`, ...) up to the count asked for. Deterministic: the same count and
seed give the same catalog.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from executor.warehouse.base import Column, TableInfo
from executor.warehouse.schema_doc import DEFAULT_SCHEMA_DOC, load_schema_doc

SEED = 19


@dataclass(frozen=True)
class Spec:
    """A curated table: its name, description and columns ("name TYPE description")."""

    name: str
    description: str
    columns: tuple[str, ...]


def _spec(name: str, description: str, *columns: str) -> Spec:
    return Spec(name, description, columns)


CURATED = (
    # --- product events -------------------------------------------------------------------
    _spec("fct_sessions", "One row per visit to the web site or app: start, end, device and "
          "landing page. Sessions group the events in interactions.",
          "session_id VARCHAR Visit id, shared by the events of the visit.",
          "user_id INTEGER The visitor; references users.user_id (NULL when anonymous).",
          "started_at TIMESTAMP When the visit began (UTC).",
          "ended_at TIMESTAMP When the last event of the visit happened.",
          "device VARCHAR desktop, mobile or tablet.",
          "landing_page VARCHAR First page of the visit.",
          "utm_source VARCHAR Traffic source from the landing URL.",
          "is_bounce BOOLEAN True when the visit had a single page view."),
    _spec("fct_page_views", "One row per page viewed on the web site, with the referrer and "
          "time on page.",
          "page_view_id BIGINT Unique page view id.",
          "session_id VARCHAR Visit the view belongs to; references fct_sessions.",
          "user_id INTEGER Viewer; references users.user_id.",
          "viewed_at TIMESTAMP When the page was shown (UTC).",
          "page_path VARCHAR URL path of the page.",
          "referrer VARCHAR Referring URL.",
          "seconds_on_page INTEGER Time spent before the next view."),
    _spec("dim_products", "The product catalogue: one row per item sold, with its category, "
          "brand and list price.",
          "product_id INTEGER Product id; interactions.item_id uses the same ids.",
          "product_name VARCHAR Name shown in the shop.",
          "category_id INTEGER References dim_product_categories.category_id.",
          "brand VARCHAR Brand or maker.",
          "list_price DECIMAL(10,2) Price in USD before discounts.",
          "launched_on DATE Day the product went on sale.",
          "is_discontinued BOOLEAN True once the product is no longer sold."),
    _spec("dim_product_categories", "Product categories and their parent departments.",
          "category_id INTEGER Category id.",
          "category_name VARCHAR electronics, books, home, fashion, sports, beauty, toys, "
          "grocery.",
          "department VARCHAR Merchandising department the category rolls up to."),
    _spec("fct_feature_usage", "One row per use of a product feature (exports, dashboards, "
          "integrations) by a user, for adoption analysis.",
          "usage_id BIGINT Unique id.",
          "user_id INTEGER The user; references users.user_id.",
          "feature_name VARCHAR Feature used, e.g. export, dashboard, api, integration.",
          "used_at TIMESTAMP When it was used.",
          "plan VARCHAR The user's plan at the time."),
    _spec("fct_app_installs", "Mobile app installs and uninstalls from the app stores.",
          "install_id BIGINT Unique id.",
          "user_id INTEGER Installing user, once signed in.",
          "platform VARCHAR ios or android.",
          "installed_at TIMESTAMP Install time.",
          "uninstalled_at TIMESTAMP Uninstall time; NULL while installed.",
          "app_version VARCHAR Version installed."),
    _spec("fct_search_queries", "Searches typed into the shop's search box, with the number "
          "of results and whether one was clicked.",
          "search_id BIGINT Unique id.",
          "user_id INTEGER Searching user.",
          "searched_at TIMESTAMP When.",
          "query_text VARCHAR What was typed.",
          "result_count INTEGER Results shown.",
          "clicked BOOLEAN True when a result was clicked."),
    _spec("dim_experiments", "A/B tests: one row per experiment with its hypothesis and dates.",
          "experiment_id INTEGER Experiment id.",
          "experiment_name VARCHAR Short name.",
          "hypothesis VARCHAR What the test expects to change.",
          "started_on DATE First day.",
          "ended_on DATE Last day; NULL while running.",
          "owner_team VARCHAR Team running the test."),
    _spec("fct_experiment_assignments", "Which variant of each A/B test a user was assigned "
          "to, and whether they converted.",
          "experiment_id INTEGER References dim_experiments.experiment_id.",
          "user_id INTEGER Assigned user.",
          "variant VARCHAR control or treatment.",
          "assigned_at TIMESTAMP When the user entered the test.",
          "converted BOOLEAN True when the user reached the test's goal."),
    # --- commerce -------------------------------------------------------------------------
    _spec("dim_customers", "One row per paying customer (a user who bought at least once), "
          "with their home country, segment and lifetime value.",
          "customer_id INTEGER Customer id.",
          "user_id INTEGER The user account; references users.user_id.",
          "country VARCHAR Billing country.",
          "segment VARCHAR consumer, smb or enterprise.",
          "first_order_at TIMESTAMP First purchase.",
          "lifetime_value DECIMAL(12,2) Net revenue to date in USD."),
    _spec("fct_orders", "One row per order placed on the web shop or app, with its totals "
          "and status. Line items are in fct_order_items.",
          "order_id BIGINT Unique order id.",
          "customer_id INTEGER Buyer; references dim_customers.customer_id.",
          "ordered_at TIMESTAMP When the order was placed (UTC).",
          "status VARCHAR placed, shipped, delivered, cancelled or returned.",
          "total_amount DECIMAL(12,2) Order total in USD including tax and shipping.",
          "discount_amount DECIMAL(12,2) Discounts applied in USD.",
          "promo_code VARCHAR Promo code used; references dim_promo_codes.",
          "store_id INTEGER Store for in-store orders; references dim_stores.",
          "channel VARCHAR web, app or store."),
    _spec("fct_order_items", "Order lines: one row per product in an order, with quantity and "
          "price paid.",
          "order_item_id BIGINT Unique line id.",
          "order_id BIGINT References fct_orders.order_id.",
          "product_id INTEGER References dim_products.product_id.",
          "quantity INTEGER Units bought.",
          "unit_price DECIMAL(10,2) Price paid per unit in USD.",
          "line_amount DECIMAL(12,2) quantity * unit_price."),
    _spec("fct_carts", "Shopping carts: created, updated, converted into an order or abandoned.",
          "cart_id BIGINT Unique cart id.",
          "user_id INTEGER Shopper.",
          "created_at TIMESTAMP Cart created.",
          "item_count INTEGER Items in the cart.",
          "cart_value DECIMAL(12,2) Value in USD.",
          "converted_order_id BIGINT The order it became; NULL when abandoned."),
    _spec("fct_returns", "Products sent back by customers, with the reason and the amount "
          "credited.",
          "return_id BIGINT Unique id.",
          "order_id BIGINT References fct_orders.order_id.",
          "product_id INTEGER Returned product.",
          "returned_at TIMESTAMP When the return was received.",
          "reason VARCHAR damaged, wrong_size, not_as_described, changed_mind.",
          "credited_amount DECIMAL(12,2) Amount credited in USD."),
    _spec("dim_stores", "Physical retail stores with their city, region and opening date.",
          "store_id INTEGER Store id.",
          "store_name VARCHAR Name.",
          "city VARCHAR City.",
          "region VARCHAR emea, amer or apac.",
          "opened_on DATE Opening day.",
          "square_meters INTEGER Floor area."),
    _spec("dim_promo_codes", "Promotions and discount codes, with their discount and validity.",
          "promo_code VARCHAR The code.",
          "campaign_id INTEGER Marketing campaign it belongs to; references dim_campaigns.",
          "discount_percent DECIMAL(5,2) Discount granted.",
          "valid_from DATE First valid day.",
          "valid_to DATE Last valid day."),
    # --- finance --------------------------------------------------------------------------
    _spec("fct_payments", "Revenue: one row per successful card or wallet payment for an "
          "order or a subscription, in USD, net of fees. The source of truth for revenue.",
          "payment_id BIGINT Unique payment id.",
          "customer_id INTEGER Paying customer; references dim_customers.customer_id.",
          "order_id BIGINT Order paid, for shop purchases; references fct_orders.order_id.",
          "subscription_id BIGINT Subscription paid, for plan charges.",
          "paid_at TIMESTAMP When the payment settled (UTC).",
          "amount_usd DECIMAL(12,2) Amount charged in USD.",
          "fee_usd DECIMAL(10,2) Processor fee in USD.",
          "payment_method VARCHAR card, paypal, apple_pay, bank_transfer.",
          "currency VARCHAR Currency the customer paid in."),
    _spec("fct_invoices", "Invoices issued to business customers, with due dates and status "
          "(accounts receivable).",
          "invoice_id BIGINT Invoice number.",
          "customer_id INTEGER Billed customer.",
          "issued_on DATE Issue date.",
          "due_on DATE Payment due date.",
          "amount_usd DECIMAL(12,2) Invoice total in USD.",
          "status VARCHAR open, paid, overdue, void."),
    _spec("fct_refunds", "Money given back to customers after a payment, with the reason.",
          "refund_id BIGINT Unique id.",
          "payment_id BIGINT References fct_payments.payment_id.",
          "refunded_at TIMESTAMP When.",
          "amount_usd DECIMAL(12,2) Amount refunded in USD.",
          "reason VARCHAR duplicate, fraud, requested_by_customer, service_issue."),
    _spec("fct_chargebacks", "Card disputes raised by the customer's bank, and their outcome.",
          "chargeback_id BIGINT Unique id.",
          "payment_id BIGINT Disputed payment.",
          "opened_at TIMESTAMP When the dispute was opened.",
          "amount_usd DECIMAL(12,2) Disputed amount.",
          "outcome VARCHAR won, lost or pending."),
    _spec("gl_journal_entries", "The general ledger: one row per journal line posted to an "
          "account, for accounting and the P&L.",
          "entry_id BIGINT Journal entry line id.",
          "account_id INTEGER References dim_gl_accounts.account_id.",
          "posted_on DATE Posting date.",
          "debit_usd DECIMAL(14,2) Debit amount.",
          "credit_usd DECIMAL(14,2) Credit amount.",
          "memo VARCHAR Free-text memo."),
    _spec("dim_gl_accounts", "The chart of accounts: ledger accounts and their type.",
          "account_id INTEGER Account id.",
          "account_name VARCHAR Name, e.g. Cloud hosting, Salaries.",
          "account_type VARCHAR asset, liability, equity, income or expense."),
    _spec("fct_expenses", "Company spending: one row per vendor bill or employee expense "
          "claim, by cost center.",
          "expense_id BIGINT Unique id.",
          "department_id INTEGER Cost center; references dim_departments.department_id.",
          "vendor VARCHAR Who was paid.",
          "spent_on DATE Date of the expense.",
          "amount_usd DECIMAL(12,2) Amount in USD.",
          "category VARCHAR travel, software, hardware, contractors, office."),
    _spec("fct_budgets", "Planned spend per department and month (the annual budget plan).",
          "department_id INTEGER References dim_departments.department_id.",
          "budget_month DATE First day of the month.",
          "planned_usd DECIMAL(14,2) Planned spend in USD."),
    _spec("dim_exchange_rates", "Daily currency exchange rates to USD.",
          "rate_date DATE Day.",
          "currency VARCHAR ISO currency code.",
          "usd_rate DECIMAL(14,6) Units of USD for one unit of the currency."),
    _spec("fct_payouts", "Payouts to marketplace sellers and partners.",
          "payout_id BIGINT Unique id.",
          "partner_id INTEGER Partner paid.",
          "paid_out_at TIMESTAMP When.",
          "amount_usd DECIMAL(12,2) Amount in USD."),
    # --- subscriptions --------------------------------------------------------------------
    _spec("subscriptions", "One row per subscription to a paid plan: start, renewal, "
          "cancellation (churn) and its monthly price.",
          "subscription_id BIGINT Unique id.",
          "user_id INTEGER Subscriber; references users.user_id.",
          "plan_id INTEGER References dim_plans.plan_id.",
          "started_at TIMESTAMP Subscription start.",
          "cancelled_at TIMESTAMP When it was cancelled; NULL while active.",
          "cancel_reason VARCHAR too_expensive, missing_feature, switched, other.",
          "monthly_price_usd DECIMAL(10,2) Price per month in USD.",
          "billing_period VARCHAR monthly or annual."),
    _spec("dim_plans", "The pricing plans (free, pro, enterprise) and their list prices.",
          "plan_id INTEGER Plan id.",
          "plan_name VARCHAR free, pro or enterprise.",
          "monthly_list_price_usd DECIMAL(10,2) List price per month.",
          "seats_included INTEGER Seats in the plan."),
    _spec("fct_subscription_events", "Upgrades, downgrades, renewals and cancellations of "
          "subscriptions, one row per change.",
          "event_id BIGINT Unique id.",
          "subscription_id BIGINT References subscriptions.subscription_id.",
          "event_type VARCHAR upgrade, downgrade, renewal, cancellation, reactivation.",
          "occurred_at TIMESTAMP When.",
          "from_plan_id INTEGER Plan before.",
          "to_plan_id INTEGER Plan after."),
    _spec("fct_mrr_monthly", "Monthly recurring revenue (MRR) per subscription and month: "
          "new, expansion, contraction and churned MRR.",
          "subscription_id BIGINT References subscriptions.subscription_id.",
          "month DATE First day of the month.",
          "mrr_usd DECIMAL(12,2) Recurring revenue that month.",
          "movement VARCHAR new, expansion, contraction, churn or flat."),
    # --- marketing ------------------------------------------------------------------------
    _spec("dim_campaigns", "Marketing campaigns: channel, budget and dates.",
          "campaign_id INTEGER Campaign id.",
          "campaign_name VARCHAR Name.",
          "channel VARCHAR paid_search, social, email, display, affiliate.",
          "budget_usd DECIMAL(12,2) Planned spend.",
          "started_on DATE Start.",
          "ended_on DATE End."),
    _spec("fct_ad_spend", "Daily advertising cost, impressions and clicks per campaign, from "
          "the ad platforms (Google Ads, Meta, LinkedIn).",
          "campaign_id INTEGER References dim_campaigns.campaign_id.",
          "spend_date DATE Day.",
          "platform VARCHAR google_ads, meta, linkedin, tiktok.",
          "cost_usd DECIMAL(12,2) Amount spent in USD.",
          "impressions BIGINT Times the ads were shown.",
          "clicks INTEGER Clicks on the ads."),
    _spec("fct_email_sends", "Marketing emails and newsletters sent, one row per recipient.",
          "send_id BIGINT Unique id.",
          "campaign_id INTEGER Campaign; references dim_campaigns.campaign_id.",
          "user_id INTEGER Recipient.",
          "sent_at TIMESTAMP When sent.",
          "subject VARCHAR Subject line."),
    _spec("fct_email_events", "Opens, clicks, bounces and unsubscribes of marketing emails.",
          "send_id BIGINT References fct_email_sends.send_id.",
          "event_type VARCHAR open, click, bounce, unsubscribe.",
          "occurred_at TIMESTAMP When."),
    _spec("fct_leads", "Marketing leads (prospects who filled in a form), with their source "
          "and whether they became a customer.",
          "lead_id BIGINT Unique id.",
          "created_at TIMESTAMP When the form was filled in.",
          "source VARCHAR webinar, ebook, demo_request, trade_show, referral.",
          "campaign_id INTEGER Campaign credited.",
          "company_size VARCHAR Employees band.",
          "is_qualified BOOLEAN Marketing-qualified lead (MQL).",
          "converted_at TIMESTAMP When the lead became a customer; NULL otherwise."),
    _spec("fct_attribution_touches", "Marketing touchpoints before each conversion, with "
          "first-touch and last-touch credit.",
          "touch_id BIGINT Unique id.",
          "user_id INTEGER Converting user.",
          "campaign_id INTEGER Campaign touched.",
          "touched_at TIMESTAMP When.",
          "first_touch_credit DECIMAL(5,4) Share of credit under first touch.",
          "last_touch_credit DECIMAL(5,4) Share of credit under last touch."),
    # --- support --------------------------------------------------------------------------
    _spec("support_tickets", "Customer support requests (Zendesk): one row per ticket with its "
          "priority, status and resolution time.",
          "ticket_id BIGINT Ticket number.",
          "user_id INTEGER Requester; references users.user_id.",
          "agent_id INTEGER Assignee; references dim_support_agents.agent_id.",
          "created_at TIMESTAMP When the ticket was opened.",
          "solved_at TIMESTAMP When it was solved; NULL while open.",
          "priority VARCHAR low, normal, high, urgent.",
          "topic VARCHAR billing, login, bug, feature_request, shipping.",
          "first_response_minutes INTEGER Minutes until the first reply."),
    _spec("fct_ticket_comments", "Messages exchanged on support tickets.",
          "comment_id BIGINT Unique id.",
          "ticket_id BIGINT References support_tickets.ticket_id.",
          "author_type VARCHAR customer or agent.",
          "created_at TIMESTAMP When.",
          "body_chars INTEGER Length of the message."),
    _spec("dim_support_agents", "Support agents and their team and shift.",
          "agent_id INTEGER Agent id.",
          "agent_name VARCHAR Name.",
          "team VARCHAR tier1, tier2, billing.",
          "shift VARCHAR emea, amer or apac hours."),
    _spec("fct_csat_surveys", "Customer satisfaction (CSAT) ratings given after a ticket is "
          "solved.",
          "survey_id BIGINT Unique id.",
          "ticket_id BIGINT References support_tickets.ticket_id.",
          "rating INTEGER 1 (bad) to 5 (great).",
          "answered_at TIMESTAMP When."),
    _spec("fct_nps_responses", "Net promoter score (NPS) survey answers from users.",
          "response_id BIGINT Unique id.",
          "user_id INTEGER Respondent.",
          "score INTEGER 0 to 10; promoters 9-10, detractors 0-6.",
          "answered_at TIMESTAMP When.",
          "comment VARCHAR Free text."),
    # --- people (HR) ----------------------------------------------------------------------
    _spec("dim_employees", "Staff: one row per employee with their department, title, manager, "
          "location and hire and termination dates.",
          "employee_id INTEGER Employee id.",
          "department_id INTEGER References dim_departments.department_id.",
          "job_title VARCHAR Title.",
          "manager_id INTEGER The employee's manager (an employee_id).",
          "location VARCHAR Office city or remote.",
          "hired_on DATE Start date.",
          "terminated_on DATE Leaving date; NULL for current staff.",
          "employment_type VARCHAR full_time, part_time, contractor."),
    _spec("dim_departments", "Departments (cost centers) and their heads.",
          "department_id INTEGER Department id.",
          "department_name VARCHAR Engineering, Sales, Marketing, Support, Finance, People.",
          "head_employee_id INTEGER Department head."),
    _spec("fct_payroll", "Salary payments: gross pay, bonus and taxes per employee and pay "
          "period.",
          "employee_id INTEGER References dim_employees.employee_id.",
          "pay_date DATE Pay day.",
          "gross_pay_usd DECIMAL(12,2) Gross salary in USD.",
          "bonus_usd DECIMAL(12,2) Bonus in USD.",
          "employer_tax_usd DECIMAL(12,2) Employer taxes."),
    _spec("fct_time_off", "Vacation, sick leave and parental leave taken by employees.",
          "request_id BIGINT Unique id.",
          "employee_id INTEGER References dim_employees.employee_id.",
          "leave_type VARCHAR vacation, sick, parental, unpaid.",
          "starts_on DATE First day off.",
          "days NUMERIC(5,1) Working days taken."),
    _spec("fct_job_applications", "Recruiting: candidates who applied to open positions and "
          "how far they got in hiring.",
          "application_id BIGINT Unique id.",
          "job_opening_id INTEGER The position.",
          "department_id INTEGER Hiring department.",
          "applied_at TIMESTAMP When.",
          "stage VARCHAR applied, screen, interview, offer, hired, rejected.",
          "source VARCHAR linkedin, referral, careers_page, agency."),
    _spec("fct_performance_reviews", "Yearly and mid-year performance review ratings.",
          "review_id BIGINT Unique id.",
          "employee_id INTEGER Reviewed employee.",
          "review_cycle VARCHAR e.g. 2026-H1.",
          "rating INTEGER 1 to 5."),
    # --- logistics ------------------------------------------------------------------------
    _spec("fct_shipments", "Parcels shipped to customers: carrier, warehouse, ship and "
          "delivery times.",
          "shipment_id BIGINT Unique id.",
          "order_id BIGINT References fct_orders.order_id.",
          "warehouse_id INTEGER Shipping warehouse; references dim_warehouses.",
          "carrier_id INTEGER References dim_carriers.carrier_id.",
          "shipped_at TIMESTAMP Handed to the carrier.",
          "delivered_at TIMESTAMP Delivered; NULL while in transit.",
          "promised_on DATE Delivery date promised to the customer.",
          "weight_kg DECIMAL(8,2) Parcel weight."),
    _spec("dim_warehouses", "Fulfilment centers (distribution warehouses) and their capacity.",
          "warehouse_id INTEGER Warehouse id.",
          "warehouse_name VARCHAR Name.",
          "city VARCHAR City.",
          "region VARCHAR emea, amer or apac.",
          "capacity_units INTEGER Storage capacity."),
    _spec("dim_carriers", "Shipping carriers (UPS, DHL, FedEx, ...).",
          "carrier_id INTEGER Carrier id.",
          "carrier_name VARCHAR Name.",
          "service_level VARCHAR standard, express, same_day."),
    _spec("fct_inventory_snapshots", "Stock on hand per product and warehouse, taken every "
          "night.",
          "snapshot_date DATE Day of the count.",
          "warehouse_id INTEGER References dim_warehouses.warehouse_id.",
          "product_id INTEGER References dim_products.product_id.",
          "units_on_hand INTEGER Units in stock.",
          "units_reserved INTEGER Units held for open orders."),
    _spec("fct_purchase_orders", "Purchase orders placed with suppliers to restock products.",
          "po_id BIGINT Purchase order id.",
          "supplier_id INTEGER References dim_suppliers.supplier_id.",
          "product_id INTEGER Product ordered.",
          "ordered_on DATE Order date.",
          "expected_on DATE Expected arrival.",
          "quantity INTEGER Units ordered.",
          "cost_usd DECIMAL(12,2) Total cost."),
    _spec("dim_suppliers", "Suppliers and vendors of the products we sell.",
          "supplier_id INTEGER Supplier id.",
          "supplier_name VARCHAR Name.",
          "country VARCHAR Country.",
          "lead_time_days INTEGER Usual days from order to delivery."),
    # --- sales (CRM) ----------------------------------------------------------------------
    _spec("crm_accounts", "Business accounts in the CRM (Salesforce): companies we sell to, "
          "with industry, size and owner.",
          "account_id VARCHAR CRM account id.",
          "account_name VARCHAR Company name.",
          "industry VARCHAR Industry.",
          "employee_count INTEGER Company size.",
          "owner_rep_id INTEGER Account executive; references dim_sales_reps.rep_id.",
          "country VARCHAR Headquarters country."),
    _spec("crm_opportunities", "Sales pipeline: deals with their stage, amount and expected "
          "close date.",
          "opportunity_id VARCHAR CRM opportunity id.",
          "account_id VARCHAR References crm_accounts.account_id.",
          "rep_id INTEGER Owner; references dim_sales_reps.rep_id.",
          "stage VARCHAR prospecting, qualification, proposal, negotiation, closed_won, "
          "closed_lost.",
          "amount_usd DECIMAL(14,2) Deal value.",
          "created_on DATE Opened.",
          "close_date DATE Expected or actual close."),
    _spec("crm_activities", "Calls, meetings and emails logged by sales reps.",
          "activity_id VARCHAR Unique id.",
          "rep_id INTEGER Sales rep.",
          "account_id VARCHAR Account.",
          "activity_type VARCHAR call, meeting, email, demo.",
          "occurred_at TIMESTAMP When."),
    _spec("dim_sales_reps", "Sales representatives, their team, region and manager.",
          "rep_id INTEGER Rep id.",
          "rep_name VARCHAR Name.",
          "team VARCHAR smb, mid_market, enterprise.",
          "region VARCHAR emea, amer or apac.",
          "hired_on DATE Start date."),
    _spec("fct_sales_quotas", "Quota targets per sales rep and quarter.",
          "rep_id INTEGER References dim_sales_reps.rep_id.",
          "quarter_start DATE First day of the quarter.",
          "quota_usd DECIMAL(14,2) Bookings target."),
    # --- risk and engineering -------------------------------------------------------------
    _spec("fct_fraud_alerts", "Suspicious payments flagged by the fraud rules, and the review "
          "decision.",
          "alert_id BIGINT Unique id.",
          "payment_id BIGINT Flagged payment.",
          "rule_name VARCHAR Rule that fired.",
          "flagged_at TIMESTAMP When.",
          "decision VARCHAR approved, blocked, pending."),
    _spec("fct_incidents", "Production outages and incidents, with severity and time to "
          "resolve.",
          "incident_id INTEGER Unique id.",
          "severity VARCHAR sev1 to sev4.",
          "service VARCHAR Affected service.",
          "started_at TIMESTAMP Start.",
          "resolved_at TIMESTAMP Resolved.",
          "postmortem_url VARCHAR Write-up."),
    _spec("fct_deployments", "Code releases deployed to production, per service.",
          "deployment_id BIGINT Unique id.",
          "service VARCHAR Service deployed.",
          "deployed_at TIMESTAMP When.",
          "author VARCHAR Engineer.",
          "rolled_back BOOLEAN True when the release was rolled back."),
)

REGIONS = ("emea", "amer", "apac", "latam")
YEARS = ("2018", "2019", "2020", "2021")
PREFIXES = ("fct_", "dim_")
# The copies a warehouse accumulates around a curated table: a name pattern ({core}: the
# name without its fct_/dim_ prefix) and how its description reads.
COPIES = (
    ("stg_{core}", "Staging copy of {name}, loaded hourly from the source system; not "
                   "deduplicated. Use {name} for analysis."),
    ("raw_{core}", "Raw extract behind {name}, as delivered by the source; JSON columns "
                   "unparsed."),
    ("{core}_{region}", "{name} for the {region_upper} region only (regional copy for the "
                        "local team)."),
    ("{core}_archive_{year}", "{name} as it was at the end of {year}; frozen archive."),
    ("{core}_backup", "Backup of {name} taken before a migration; do not use."),
    ("tmp_{core}_dedup", "Temporary table used while deduplicating {name}."),
    ("int_{core}_enriched", "{name} joined with lookups for the BI layer (intermediate model)."),
    ("agg_{core}_daily", "Daily rollup of {name}: counts and sums per day."),
    ("agg_{core}_monthly", "Monthly rollup of {name}: counts and sums per month."),
    ("snap_{core}_weekly", "Weekly snapshot of {name}, one copy of every row per week."),
    ("{core}_v1_deprecated", "Old version of {name}, kept for legacy dashboards; deprecated."),
)
DEPARTMENTS = ("sales", "finance", "marketing", "product", "support", "hr", "ops",
               "billing", "growth", "risk")
ENTITIES = ("orders", "invoices", "campaigns", "tickets", "sessions", "payments", "leads",
            "accounts", "refunds", "shipments", "subscriptions", "events", "employees",
            "contracts", "experiments", "alerts", "payouts", "quotes", "visits", "returns")
GRAINS = ("daily", "weekly", "monthly", "raw", "clean", "snapshot", "agg", "v2", "hist",
          "extract")
EXTRACT_COLUMNS = (
    "id INTEGER Row id.", "created_at TIMESTAMP When the row was created.",
    "status VARCHAR Status code.", "region VARCHAR emea, amer or apac.",
    "channel VARCHAR web, app, store, partner or email.", "note VARCHAR Free text.",
    "amount NUMERIC(12,2) Amount.",
)


def sample_tables() -> list[TableInfo]:
    """The sample warehouse's tables, as input/schema.yaml describes them."""
    return [_table(doc.name, doc.description,
                   [Column(c.name, c.type, c.description) for c in doc.columns])
            for doc in load_schema_doc(DEFAULT_SCHEMA_DOC).tables]


def curated_tables() -> list[TableInfo]:
    """The sample tables and the curated ones: the tables questions are asked about."""
    return [*sample_tables(), *(_from_spec(spec) for spec in CURATED)]


def generate_tables(count: int = 2000, seed: int = SEED) -> list[TableInfo]:
    """`count` tables (at least the curated ones): curated, their copies, then extracts."""
    rng = random.Random(seed)
    tables = curated_tables()
    names = {table.name for table in tables}
    copies: list[TableInfo] = []
    for table in tables:
        for pattern, description in COPIES:
            region, year = rng.choice(REGIONS), rng.choice(YEARS)
            name = pattern.format(core=_core(table.name), region=region, year=year)
            text = description.format(name=table.name, region_upper=region.upper(), year=year)
            if name not in names:
                names.add(name)
                copies.append(_table(name, text, table.columns))
    rng.shuffle(copies)
    tables += copies
    extracts = (f"{d}_{e}_{g}" for g in GRAINS for d in DEPARTMENTS for e in ENTITIES)
    while len(tables) < count:
        name = next(extracts)
        department, entity, grain = name.split("_")
        columns = [_column(text) for text in EXTRACT_COLUMNS]
        tables.append(_table(name, f"{grain.capitalize()} {entity} extract maintained by the "
                                   f"{department} team.", columns))
    return tables[:max(count, len(curated_tables()))]


def _core(name: str) -> str:
    return name.removeprefix("fct_").removeprefix("dim_")


def _from_spec(spec: Spec) -> TableInfo:
    return _table(spec.name, spec.description, [_column(text) for text in spec.columns])


def _column(text: str) -> Column:
    name, type_, description = text.split(" ", 2)
    return Column(name, type_, description)


def _table(name: str, description: str, columns: list[Column]) -> TableInfo:
    return TableInfo(name=name, columns=list(columns), row_count=1000, description=description)
