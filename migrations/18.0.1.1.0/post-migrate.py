# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Requests paid before partial payments existed were paid whole: what they were paid is their
amount, and nothing remains."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE payment_request
           SET amount_paid = amount, amount_remaining = 0
         WHERE state = 'paid' AND COALESCE(amount_paid, 0) = 0
        """
    )
    cr.execute(
        """
        UPDATE payment_transaction
           SET payment_request_counted = TRUE
         WHERE payment_request_id IS NOT NULL
           AND state = 'done'
           AND payment_request_duplicate_state IS NULL
           AND operation NOT IN ('refund', 'validation')
        """
    )
