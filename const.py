# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Constants of the addon, as Odoo's payment addons keep theirs (``payment_stripe/const.py``)."""

from datetime import timedelta

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
}

EXPIRY_BATCH_SIZE = 1000
# How long a pending payment (3-D Secure, a redirect) holds the expiry of its request. Some stay
# pending for days (bank transfers): past this, the request expires, and a payment confirmed
# later is booked all the same, as paid late.
PENDING_PAYMENT_GRACE = timedelta(days=1)

CHANNELS = [("email", "Email"), ("sms", "SMS"), ("both", "Email and SMS")]

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
RECEIPT_BATCH_SIZE = 100
# A receipt that could not be made is retried by its cron for this long, then only by hand.
RECEIPT_RETRY_DAYS = 7

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
}
SOURCE_MODELS = tuple(PURPOSES_BY_MODEL)

# === PUBLIC PAGES === #

# The largest id PostgreSQL stores in an `integer` column: a larger one opens nothing.
MAX_RECORD_ID = 2**31 - 1
# Bounds of what a customer types on the public page (the decline form says maxlength="2000").
MAX_NAME_LENGTH = 256
MAX_REASON_LENGTH = 2000
# A drawn signature is a PNG of a few dozen kilobytes, base64-encoded.
MAX_SIGNATURE_LENGTH = 2 * 1024 * 1024
PAYMENT_FLOWS = ("redirect", "direct", "token")
