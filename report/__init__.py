# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from . import payment_request_channel_report
from . import payment_request_report
