# Copyright 2026 payment_request authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Payment Requests",
    "summary": "Ask customers to pay remotely: a tracked request with a secure payment link",
    "version": "18.0.1.0.0",
    "category": "Accounting/Payment",
    "website": "https://github.com/payment-request/payment_request",
    "author": "payment_request authors",
    "license": "LGPL-3",
    "depends": [
        "account_payment",
        "sale",
        "sms",
        "portal",
        "payment_stripe",
    ],
    "external_dependencies": {
        "python": ["stripe", "phonenumbers"],
    },
    "data": [
        "security/payment_request_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "data/payment_token_data.xml",
        "data/payment_request_data.xml",
        "report/payment_request_reports.xml",
        "report/payment_request_templates.xml",
        "data/mail_message_subtype_data.xml",
        "data/mail_template_data.xml",
        "data/sms_template_data.xml",
        "wizards/payment_request_wizard_views.xml",
        "views/payment_request_views.xml",
        "views/payment_request_templates.xml",
        "views/payment_card_request_templates.xml",
        "views/sale_order_views.xml",
        "views/account_move_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "report/payment_request_report_views.xml",
        "views/payment_request_menus.xml",
    ],
    "demo": [
        "demo/payment_request_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "payment_request/static/tests/tours/**/*",
        ],
    },
    "uninstall_hook": "uninstall_hook",
    "installable": True,
}
