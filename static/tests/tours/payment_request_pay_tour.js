/** @odoo-module **/

import { registry } from "@web/core/registry";

function payWithDemo(simulatedState) {
    return [
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
            content: `Simulate a payment that ends ${simulatedState}`,
            trigger: "select#simulated_payment_state",
            run: `select ${simulatedState}`,
        },
        {
            content: "Pay",
            trigger: 'button[name="o_payment_submit_button"]:enabled',
            run: "click",
            expectUnloadPage: true,
        },
    ];
}

const paidAndReceipt = [
    {
        content: "Back on the request, it is paid",
        trigger: ".o_payment_request_status_paid:contains(this request is paid)",
    },
    {
        content: "The receipt can be downloaded",
        trigger: "a.o_payment_request_receipt[href*='/receipt?access_token=']",
    },
];

registry.category("web_tour.tours").add("payment_request_pay", {
    steps: () => [
        {
            content: "The request shows what is paid",
            trigger: ".o_payment_request_amount:contains(120.00)",
        },
        ...payWithDemo("done"),
        ...paidAndReceipt,
    ],
});

registry.category("web_tour.tours").add("payment_request_pay_after_failure", {
    steps: () => [
        {
            content: "Remember the link the customer received",
            trigger: ".o_payment_request_name",
            run: () => sessionStorage.setItem("payment_request_link", window.location.href),
        },
        ...payWithDemo("error"),
        {
            content: "The first attempt fails",
            trigger: ".alert-danger",
        },
        {
            content: "Open the link again",
            trigger: "body",
            run: () => window.location.assign(sessionStorage.getItem("payment_request_link")),
            expectUnloadPage: true,
        },
        {
            content: "The request can still be paid",
            trigger: ".o_payment_request_name",
        },
        ...payWithDemo("done"),
        ...paidAndReceipt,
    ],
});
