/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("payment_request_cards_add_card", {
    steps: () => [
        {
            content: "Open the customer's cards",
            trigger: ".o_notebook .nav-link:contains(Cards)",
            run: "click",
        },
        {
            content: "No card yet",
            trigger: "div[name=payment_request_card_ids] .o_list_view:not(:has(.o_data_row))",
        },
        {
            content: "The customer is present: open the provider's card form",
            trigger: "button[name=action_payment_request_add_card]",
            run: "click",
        },
        {
            content: "The customer form stays open",
            trigger: "button[name=action_payment_request_request_card]",
        },
    ],
});

registry.category("web_tour.tours").add("payment_request_cards_save_card", {
    steps: () => [
        {
            content: "The page saves a card, nothing is charged",
            trigger: ".o_payment_card_request_title:contains(Save a card)",
        },
        {
            content: "Choose the demo provider",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="demo"]',
            run: "click",
        },
        {
            content: "Type a test card number in the provider's form",
            trigger: 'input[name="customer_input"]',
            run: "edit 4242424242424242",
        },
        {
            content: "Save the card",
            trigger: 'button[name="o_payment_submit_button"]:enabled',
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the page, the card is saved",
            trigger: ".o_payment_card_request_done:contains(your card is saved)",
        },
    ],
});

registry.category("web_tour.tours").add("payment_request_cards_autopay", {
    steps: () => [
        {
            content: "Open the other information of the order",
            trigger: ".o_notebook .nav-link:contains(Other Info)",
            run: "click",
        },
        {
            content: "Pay with a saved card",
            trigger: "div[name=payment_request_use_card] input",
            run: "click",
        },
        {
            content: "Look for the customer's card",
            trigger: "div[name=payment_request_token_id] input",
            run: "edit 4242",
        },
        {
            content: "Choose it",
            trigger: ".o-autocomplete--dropdown-item:contains(4242)",
            run: "click",
        },
        {
            content: "Save the order",
            trigger: ".o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "Enable auto-pay",
            trigger: ".o_form_saved button[name=action_enable_autopay]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "Auto-pay is active",
            trigger: "div[name=payment_request_autopay_state] .badge:contains(Active)",
        },
    ],
});

registry.category("web_tour.tours").add("payment_request_cards_post_invoice", {
    steps: () => [
        {
            content: "Post the invoice of the order",
            trigger: ".o_statusbar_buttons button[name=action_post]",
            run: "click",
        },
        {
            content: "Posting only schedules the charge: the auto-pay cron makes it",
            trigger: ".o_form_view div[name=payment_request_autopay_state]:contains(To charge)",
        },
    ],
});

registry.category("web_tour.tours").add("payment_request_cards_invoice_paid", {
    steps: () => [
        {
            content: "Once the cron has run, it is paid by the saved card",
            trigger: ".o_form_view .ribbon:contains(Paid), .o_form_view .ribbon:contains(In Payment)",
        },
        {
            content: "and says so",
            trigger: ".o_form_view div[name=payment_request_autopay_state]:contains(Charged)",
        },
    ],
});
