# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from . import account_move
from . import account_move_autopay
from . import account_move_due
from . import account_move_opportunity
from . import account_move_plan
from . import account_move_qr
from . import account_payment
from . import crm_lead
from . import ir_sequence
from . import mail_message
from . import mail_notification

# the mixin first: its models inherit it
from . import payment_request_sending_mixin
from . import payment_card_request
from . import payment_provider
from . import payment_request
from . import payment_request_expiry
from . import payment_request_list
from . import payment_request_overdue
from . import payment_request_document
from . import payment_request_due
from . import payment_request_duplicate
from . import payment_request_portal
from . import payment_request_qr
from . import payment_request_quote
from . import payment_request_receipt
from . import payment_request_reminder
from . import payment_request_seen
from . import payment_request_terms

# after the concerns whose actions it extends (amend, cancel, expire)
from . import payment_request_partial
from . import payment_request_plan
from . import payment_request_plan_line
from . import payment_request_step
from . import payment_request_opportunity
from . import payment_token
from . import payment_transaction
from . import payment_transaction_discount
from . import payment_transaction_opportunity
from . import payment_transaction_plan
from . import res_company
from . import res_config_settings
from . import res_partner
from . import sale_order
from . import sale_order_opportunity
from . import sale_order_qr
from . import sale_order_quote

# after the quotation's hooks that it extends
from . import sale_order_plan
from . import sale_order_line
