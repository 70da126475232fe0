# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from . import test_access_rights
from . import test_autopay
from . import test_card_rights
from . import test_customer_cards
from . import test_delivery_faults
from . import test_duplicate_payment
from . import test_expire_cron
from . import test_pay_page
from . import test_payment_request
from . import test_payment_request_data
from . import test_payment_request_messages
from . import test_payment_request_rpc
from . import test_payment_request_rules
from . import test_payment_request_tours
from . import test_payment_request_wizard
from . import test_payment_request_wizard_orm
from . import test_post_processing
from . import test_public_routes_fuzz
from . import test_public_routes_security
from . import test_quote_approval
from . import test_stripe_faults
from . import test_stripe_webhook
