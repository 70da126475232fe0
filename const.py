# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Constants of the addon, as Odoo's payment addons keep theirs (``payment_stripe/const.py``)."""

from datetime import timedelta

import phonenumbers
import psycopg2
import requests
import stripe

# === PAYMENT REQUESTS === #

PURPOSES = [
    ("free", "Free amount"),
    ("wallet", "Wallet top-up"),
    ("invoices", "Open invoices"),
    ("invoice", "Invoice"),
    ("deposit", "Deposit"),
    ("order", "Order balance"),
    ("quote", "Quotation"),
]

STATES = [
    ("draft", "Draft"),
    ("open", "Open"),
    ("paid", "Paid"),
    ("expired", "Expired"),
    ("cancelled", "Cancelled"),
]

# Fields that only the workflow methods may change: they run them in sudo mode after checking
# the caller's rights, so a user who may edit their own request cannot mark it paid or
# consolidated by writing the fields over RPC.
WORKFLOW_FIELDS = {
    "state",
    "expiration_date",
    "paid_date",
    "is_read",
    "consolidated",
    "consolidated_by_id",
    "consolidated_date",
    "replaced_by_id",
    "channel",
    "cancel_reason",
    "quote_fingerprint",
    "decline_reason",
    "paid_transaction_id",
    "is_paid_twice",
    "paid_late",
    "receipt_state",
    "receipt_error",
    "is_automatic",
    "auto_sent_date",
    "attempt_count",
    "amount_paid",
    "early_discount_amount",
    "early_discount_date",
    "deposit_order_id",
    # The customer's acceptance of the terms, recorded by the pay page only.
    "terms_accepted_date",
    "terms_accepted_ip",
    "terms_accepted_user_agent",
}

# Fields of a request that the rules of its document bound (purposes offered, amount due,
# customer, company, currency): checked whenever a user sets them.
DOCUMENT_FIELDS = {
    "partner_id",
    "company_id",
    "currency_id",
    "amount",
    "purpose",
    "sale_order_id",
    "invoice_ids",
    "opportunity_id",
}

EXPIRY_BATCH_SIZE = 1000

# What is kept of the customer's acceptance of the terms: an IPv6 address with its zone fits in
# 64 characters; user agents are about 150 characters, some bots send kilobytes.
TERMS_IP_MAX_LENGTH = 64
TERMS_USER_AGENT_MAX_LENGTH = 512

# Partial indexes of payment_request, name -> (columns, condition): the list's filters on rare
# values, newest first (`id`), and the open requests by expiry for the expiry cron. Conditions
# are written as the ORM writes the filters' domains (a boolean False is "IS NULL OR = FALSE"),
# so that PostgreSQL matches them.
REQUEST_PARTIAL_INDEXES = {
    "unread_id": (["id"], "is_read IS NULL OR is_read = FALSE"),
    "paid_late_id": (["id"], "paid_late = TRUE"),
    "receipt_error_id": (["id"], "receipt_state = 'error'"),
    # make bench, 100,000 requests: with (id) alone, the count of the first page (up to
    # 10,001) read the table (a seq scan, 1.24x/1.21x the Sales > Orders list); with the
    # company (the multi-company rule) in the index, an index-only scan.
    "to_consolidate_id_company_id": (
        ["id", "company_id"],
        "state = 'paid' AND (consolidated IS NULL OR consolidated = FALSE)",
    ),
    "consolidated_id_company_id": (["id", "company_id"], "consolidated = TRUE"),
    "open_expiration_date": (["expiration_date", "id"], "state = 'open'"),
}
# Partial indexes of payment_request replaced by those above, dropped at update.
REQUEST_DROPPED_INDEXES = ("to_consolidate_id", "consolidated_id")
# The list grouped by these fields: the groups' counts and totals are read from an index by
# company (the multi-company rule) holding the field and the amount, not from the table (make
# bench, 100,000 requests, grouped by month: 1.15-1.19x the Sales > Orders list with a scan of
# the table, about half the time with the index).
REQUEST_GROUP_BY_INDEXES = ("partner_id", "user_id", "create_date")
# Of those, the many2one fields whose groups `_read_group` puts in order after grouping them.
REQUEST_GROUP_BY_RELATIONS = ("partner_id", "user_id")

# How long a pending payment (3-D Secure, a redirect) holds the expiry of its request. Some stay
# pending for days (bank transfers): past this, the request expires, and a payment confirmed
# later is booked all the same, as paid late.
PENDING_PAYMENT_GRACE = timedelta(days=1)

# How long a payment attempt of a request, left in draft, holds a new attempt of the same request:
# two tabs or two clicks paying together start theirs within seconds, and the second one is
# refused before any money moves. A customer whose card was declined tries again at once when the
# provider reported the decline (the attempt is then in error), after this at worst when it did not
# (Stripe's direct flow leaves the draft until its webhook arrives). An attempt pending or
# authorized holds a new one as long as it lasts; one in error or cancelled never does.
PAYMENT_ATTEMPT_WINDOW = timedelta(seconds=30)

CHANNELS = [("email", "Email"), ("sms", "SMS"), ("both", "Email and SMS")]

# The layout of the emails that carry a link: the company's header and footer, no button to
# the document (the customer pays from the link in the body).
LINK_EMAIL_LAYOUT = "mail.mail_notification_light"

DELIVERY_STATES = [
    ("none", "Not sent"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("bounced", "Bounced"),
    ("error", "Error"),
]

# mail.notification status -> delivery status, per notification type. An SMS notification is
# 'pending' once the gateway accepted it and 'sent' when the gateway reported it delivered; an
# email one is 'sent' once the SMTP server accepted it.
NOTIFICATION_TO_DELIVERY = {
    "email": {
        "ready": "queued",
        "process": "queued",
        "pending": "sent",
        "sent": "sent",
        "bounce": "bounced",
        "exception": "error",
        "canceled": "error",
    },
    "sms": {
        "ready": "queued",
        "process": "queued",
        "pending": "sent",
        "sent": "delivered",
        "bounce": "bounced",
        "exception": "error",
        "canceled": "error",
    },
}
FAILED_NOTIFICATION_STATES = ("bounce", "exception", "canceled")

RECEIPT_STATES = [
    ("none", "Not sent"),
    ("to_send", "To send"),
    ("sent", "Sent"),
    ("error", "Error"),
]
# Receipts one call of their cron makes; the scheduler commits after each call and calls it again
# while some remain. A PDF takes 1-2 s (15-25 s on a loaded server, make load): 100 at once ran
# past the cron worker's time limit, and the killed job was rolled back whole.
RECEIPT_BATCH_SIZE = 10
# Seconds after which a call stops making receipts and leaves the rest to the next run: ten PDFs
# at 12-16 s each (make load on a saturated machine) outlived the cron worker's 120 s limit.
RECEIPT_CRON_TIME_BUDGET = 40
# Errors of a transaction that met a concurrent one: worth retrying, not the receipt's fault.
CONCURRENCY_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)
# A receipt that could not be made is retried by its cron for this long, then only by hand.
RECEIPT_RETRY_DAYS = 7

# === OVERDUE INVOICES === #

# Customers (per company) one run of the overdue invoices cron asks; it runs again for the others.
OVERDUE_BATCH_SIZE = 200

# === AUTO-PAY === #

# Transactions of an invoice that forbid another charge: one is under way or done. A draft
# online transaction is a payment form the customer opened and may have left: it does not.
BLOCKING_TX_STATES = ("pending", "authorized", "done")
# Auto-pay states of an invoice whose charge the cron still has to make or to finish.
AUTOPAY_IN_FLIGHT = ("to_charge", "charging")
INVOICE_AUTOPAY_STATES = [
    ("to_charge", "To charge"),
    ("charging", "Charging"),
    ("pending", "Waiting for the provider"),
    ("done", "Charged"),
    ("failed", "Failed"),
]
# Invoices one run of the auto-pay cron charges; it triggers itself again for the others.
AUTOPAY_CRON_BATCH = 50
# Hours after its first sending during which a draft auto-pay transaction is sent again under the
# same idempotency key. Stripe keeps its keys about 24 hours: later, a resend could make a second
# PaymentIntent if the first one went through.
AUTOPAY_RESEND_HOURS = 20
# Errors after which the outcome of a charge is unknown (it may have gone through): the charge
# is sent again under the same idempotency key, never failed (the customer would be asked to pay
# a second time).
AUTOPAY_UNREACHABLE_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    stripe.APIConnectionError,
)

# Auto-pay states of a sales order.
ORDER_AUTOPAY_STATES = [("off", "Off"), ("on", "Active"), ("paused", "Paused")]
CARDS_GROUP = "payment_request.group_customer_cards"

# === SAVED CARDS === #

# Read from the provider (Stripe's PaymentMethod), never typed by staff: writable in sudo only.
CARD_FIELDS = {
    "card_brand",
    "card_exp_month",
    "card_exp_year",
    "card_holder_name",
    "card_postal_code",
    "card_deleted",
}
# Auto-pay states of an order that keep a card in use.
AUTOPAY_IN_USE = ("on", "paused")

# === SENDING === #

# Who may ask a customer to pay (the button on the customer).
REQUEST_GROUPS = "sales_team.group_sale_salesman,account.group_account_invoice"

# Purposes offered from each kind of document; the first is the default.
PURPOSES_BY_MODEL = {
    "res.partner": ("free", "wallet", "invoices"),
    "sale.order": ("deposit", "order", "quote"),
    "account.move": ("invoice",),
    "crm.lead": ("deposit", "free"),
}
SOURCE_MODELS = tuple(PURPOSES_BY_MODEL)
# Purposes whose requests may let the customer pay part of them (a quotation is approved and
# paid whole, a top-up is the amount the customer was asked).
PARTIAL_PURPOSES = ("free", "invoice", "invoices", "deposit", "order")
# The largest amount a customer may type on the pay page: more than any payment, less than what
# a float holds to the cent.
MAX_CUSTOMER_AMOUNT = 10**12
# Purposes whose requests settle invoices (a quotation's once it is approved); the requests of
# the other purposes never hold any (`_check_document_rules`), and the pay page reads none.
INVOICE_PURPOSES = ("invoice", "invoices", "quote")
# What the Request Payment form takes from the document (its hook) or from the request it
# sends again or amends.
WIZARD_DOCUMENT_FIELDS = (
    "partner_id",
    "company_id",
    "currency_id",
    "sale_order_id",
    "opportunity_id",
)
WIZARD_PROPOSED_FIELDS = ("amount", "description", "external_reference")

# === PUBLIC PAGES === #

# The largest id PostgreSQL stores in an `integer` column: a larger one opens nothing.
MAX_RECORD_ID = 2**31 - 1
# Bounds of what a customer types on the public page (the decline form says maxlength="2000").
MAX_NAME_LENGTH = 256
MAX_REASON_LENGTH = 2000
# A drawn signature is a PNG of a few dozen kilobytes, base64-encoded.
MAX_SIGNATURE_LENGTH = 2 * 1024 * 1024
PAYMENT_FLOWS = ("redirect", "direct", "token")
# The payment options that the pay page offers travel signed with its transaction route
# (`payment.request._sign_payment_offer`): the scope of their HMAC, and the longest offer read
# back (a few dozen options, each "<provider id>.<payment method id>" or "t<token id>").
PAYMENT_OFFER_SCOPE = "payment_request.payment_offer"
MAX_PAYMENT_OFFER_LENGTH = 4096

# === VIEWS OF THE PAY PAGE AND REMINDERS === #

# Written by the pay page and the reminder cron only.
VIEW_FIELDS = {"first_viewed_date", "last_viewed_date", "view_count"}
REMINDER_FIELDS = {"reminder_step", "reminder_count", "last_reminder_date", "open_date"}
WORKFLOW_FIELDS |= VIEW_FIELDS | REMINDER_FIELDS

# Link previewers and crawlers that open a link without the customer (chat apps, mail clients,
# search engines): their visits are not views. Lowercase substrings of the User-Agent header.
LINK_PREVIEW_AGENTS = (
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "linkedinbot",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "skypeuripreview",
    "microsoft office",
    "ms-office",
    "microsoftpreview",
    "outlook-iossdk",
    "googlebot",
    "google-pagerenderer",
    "bingbot",
    "bingpreview",
    "applebot",
    "yandexbot",
    "duckduckbot",
    "baiduspider",
    "pinterestbot",
    "redditbot",
    "embedly",
    "iframely",
    "vkshare",
    "viber",
    "snapchat",
    "mattermost",
    "rocket.chat",
    "headlesschrome",
)

# Reminder steps, in escalation order: a step is never sent after a later one.
REMINDER_STEPS = [
    ("none", "None"),
    ("email", "Email reminder"),
    ("sms", "SMS reminder"),
]
REMINDER_STEP_RANK = {step: rank for rank, (step, _label) in enumerate(REMINDER_STEPS)}
REMINDER_BATCH_SIZE = 100
# Numbers that can receive an SMS.
MOBILE_NUMBER_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)

# === PAYMENT PLANS === #

# When a step of a payment plan is due, from the order's confirmation or its commitment date.
PLAN_DELAY_TYPES = [
    ("on_confirmation", "On confirmation"),
    ("days_after_confirmation", "Days after confirmation"),
    ("days_before_commitment", "Days before delivery date"),
]
# Steps one run of the plan cron sends or schedules for a charge; it runs again for the others.
PLAN_BATCH_SIZE = 200
# Steps sent in one transaction of the plan cron: a concurrent update rolls back this many at
# most (make load: a batch of 200 in one transaction, ~10 s, was rolled back whole by a
# customer's payment written meanwhile).
PLAN_SEND_CHUNK = 20
# Seconds after which a call of the plan cron stops sending and triggers itself for the rest,
# well within the cron worker's time limit (120 s by default) on a loaded server.
PLAN_CRON_TIME_BUDGET = 40
# Steps one run of the plan cron charges (each in a transaction of its own).
PLAN_CHARGE_BATCH = 50
# Charge states of a step paid by the order's auto-pay (off-session, on its saved card).
PLAN_CHARGE_STATES = [
    ("to_charge", "To charge"),
    ("charging", "Charging"),
    ("pending", "Waiting for the provider"),
    ("done", "Charged"),
    ("failed", "Failed"),
]
PLAN_CHARGE_IN_FLIGHT = ("to_charge", "charging")
# The fields of a step that its order's plan sets: never typed by a user.
PLAN_FIELDS = {
    "due_date",
    "scheduled_date",
    "plan_id",
    "plan_step",
    "plan_step_count",
    "plan_charge_state",
}
WORKFLOW_FIELDS |= PLAN_FIELDS

# === QR CODES OF THE LINK === #

# The QR code of a request's link, as Odoo's barcode route draws it (ir.actions.report.barcode):
# the form and the PDFs scale down the one image, the email asks the route for its own. Level M
# (15% damage) for a code printed on paper; quiet=0 keeps the 4-module margin a phone needs
# around it (the route's default, quiet=1, draws none for a QR code). The sizes are targets:
# the code is drawn at the nearest whole number of pixels per module (`_get_qr_code_pixels`).
QR_CODE_SIZE = 300
# Shown at 150 px in the email, drawn twice as large for high-density screens.
QR_CODE_EMAIL_SIZE = 300
QR_CODE_BORDER = 4
QR_CODE_OPTIONS = {"barLevel": "M", "quiet": 0, "barBorder": QR_CODE_BORDER}
