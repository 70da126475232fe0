/** @odoo-module **/

import { waitUntil } from "@odoo/hoot-dom";
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
            content: "The page says the last attempt failed",
            trigger: ".o_payment_request_last_attempt .alert-danger:contains(An error occurred)",
        },
        {
            content: "The request can still be paid",
            trigger: ".o_payment_request_name",
        },
        ...payWithDemo("done"),
        ...paidAndReceipt,
    ],
});

registry.category("web_tour.tours").add("payment_request_quote_approve_and_pay", {
    steps: () => [
        {
            content: "The quotation is shown as on Odoo's portal",
            trigger: ".o_payment_request_quote #sales_order_table:contains(Deck repair)",
        },
        {
            content: "Its terms are shown",
            trigger: ".o_payment_request_quote #terms:contains(Work starts within two weeks)",
        },
        {
            content: "Approve",
            trigger: ".o_payment_request_approve",
            run: "click",
        },
        {
            content: "The customer's name is proposed",
            trigger: ".modal .o_web_sign_name_and_signature input:value(Claire Customer)",
        },
        {
            content: "The signature is drawn from the name",
            trigger: ".modal canvas.o_web_sign_signature",
            async run(helpers) {
                await waitUntil(() => {
                    const canvas = helpers.anchor;
                    const context = canvas.getContext("2d");
                    const imageData = context.getImageData(0, 0, canvas.width, canvas.height);
                    return new Uint32Array(imageData.data.buffer).some((pixel) => pixel !== 0);
                });
            },
        },
        {
            content: "Sign",
            trigger: ".modal .o_portal_sign_submit:enabled",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The order is confirmed and its invoice can be paid",
            trigger: ".o_payment_request_quote_approved:contains(is ready to be paid)",
        },
        ...payWithDemo("done"),
        ...paidAndReceipt,
        {
            content: "The paid invoice can be downloaded",
            trigger: "a.o_payment_request_invoice_pdf[href*='access_token=']",
        },
    ],
});

registry.category("web_tour.tours").add("payment_request_quote_decline", {
    steps: () => [
        {
            content: "Decline",
            trigger: ".o_payment_request_decline",
            run: "click",
        },
        {
            content: "Say why",
            trigger: ".modal textarea[name=decline_reason]",
            run: "edit We chose another contractor",
        },
        {
            content: "Confirm",
            trigger: ".modal .o_payment_request_decline_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The quotation is declined",
            trigger: ".o_payment_request_status_declined",
        },
    ],
});

registry.category("web_tour.tours").add("payment_request_pay_part", {
    steps: () => [
        {
            content: "The customer may pay part of the request",
            trigger: "input.o_payment_request_amount_input",
            run: "edit 70.50",
        },
        {
            content: "Update the amount to pay",
            trigger: "button.o_payment_request_amount_update",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The payment form pays the chosen amount",
            trigger: ".o_payment_request_amount_to_pay:contains(70.50)",
        },
        ...payWithDemo("done"),
        {
            content: "Back on the request, the payment is counted and the rest remains",
            trigger: ".o_payment_request_partly_paid:contains(70.50)",
        },
        {
            content: "What remains is offered",
            trigger: ".o_payment_request_amount:contains(49.50)",
        },
    ],
});

registry.category("web_tour.tours").add("payment_request_plan_approve_and_pay_first", {
    steps: () => [
        {
            content: "The page asks the first payment of the plan, not the total",
            trigger: ".o_payment_request_amount:contains(330.00)",
        },
        {
            content: "The whole schedule is shown",
            trigger: ".o_payment_request_plan .o_payment_request_plan_step:contains(770.00):contains(Later)",
        },
        {
            content: "Approve",
            trigger: ".o_payment_request_approve",
            run: "click",
        },
        {
            content: "The signature is drawn from the proposed name",
            trigger: ".modal canvas.o_web_sign_signature",
            async run(helpers) {
                await waitUntil(() => {
                    const canvas = helpers.anchor;
                    const context = canvas.getContext("2d");
                    const imageData = context.getImageData(0, 0, canvas.width, canvas.height);
                    return new Uint32Array(imageData.data.buffer).some((pixel) => pixel !== 0);
                });
            },
        },
        {
            content: "Sign",
            trigger: ".modal .o_portal_sign_submit:enabled",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The order is confirmed; its first payment is asked",
            trigger: ".o_payment_request_quote_approved:contains(Its first payment is asked below)",
        },
        ...payWithDemo("done"),
        ...paidAndReceipt,
        {
            content: "The schedule shows the first payment paid and the next one",
            trigger: ".o_payment_request_plan_step:contains(330.00):contains(Paid)",
        },
        {
            content: "The balance is next",
            trigger: ".o_payment_request_plan_step:contains(770.00):contains(Next)",
        },
    ],
});
