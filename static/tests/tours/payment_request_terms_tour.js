/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("payment_request_terms_pay", {
    steps: () => [
        {
            content: "The page asks to accept the terms, with a link to them",
            trigger: ".o_payment_request_terms a.o_payment_request_terms_link[target=_blank]",
        },
        {
            content: "Choose the demo provider",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="demo"]',
            run: "click",
        },
        {
            content: "Type a test card number",
            trigger: 'input[name="customer_input"]',
            run: "edit 4242424242424242",
        },
        {
            content: "Simulate a payment that succeeds",
            trigger: "select#simulated_payment_state",
            run: "select done",
        },
        {
            content: "The Pay button is disabled while the terms are not accepted",
            trigger: "#payment_request_terms:not(:checked)",
            run() {
                const button = document.querySelector('button[name="o_payment_submit_button"]');
                if (!button.disabled) {
                    throw new Error("The Pay button is enabled before the terms are accepted.");
                }
            },
        },
        {
            content: "Accept the terms",
            trigger: "#payment_request_terms",
            run: "click",
        },
        {
            content: "The Pay button is enabled",
            trigger: 'button[name="o_payment_submit_button"]:enabled',
        },
        {
            content: "Untick the box again",
            trigger: "#payment_request_terms:checked",
            run: "click",
        },
        {
            content: "The Pay button is disabled again",
            trigger: 'button[name="o_payment_submit_button"]:disabled',
        },
        {
            content: "Accept the terms",
            trigger: "#payment_request_terms:not(:checked)",
            run: "click",
        },
        {
            content: "Pay",
            trigger: 'button[name="o_payment_submit_button"]:enabled',
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the request, it is paid",
            trigger: ".o_payment_request_status_paid:contains(this request is paid)",
        },
    ],
});
