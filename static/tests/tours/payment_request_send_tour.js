/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("payment_request_send_from_order", {
    steps: () => [
        {
            content: "Ask the customer of the quotation to pay a deposit",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Request Payment)",
            run: "click",
        },
        {
            content: "A quotation is sent for approval by default",
            trigger: ".modal div[name=purpose] select option:checked:contains(Quotation):not(:visible)",
        },
        {
            content: "Ask for a deposit instead",
            trigger: ".modal div[name=purpose] select",
            run: 'select "deposit"',
        },
        {
            content: "The deposit is proposed",
            trigger: ".modal div[name=purpose] select option:checked:contains(Deposit):not(:visible)",
        },
        {
            content: "Send by email and SMS",
            trigger: ".modal div[name=channel] input[data-value=both]",
            run: "click",
        },
        {
            content: "The customer's mobile is prefilled",
            trigger: ".modal div[name=phone] input:value(+1 415-555-2671)",
        },
        {
            content: "Send",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "The request is open",
            trigger:
                ".o_statusbar_status .o_arrow_button_current:contains(Open)",
        },
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            // Sales > Orders holds the same menu when the Sales app is installed.
            content: "Open Invoicing",
            trigger: ".o_app:contains(Invoicing)",
            run: "click",
        },
        {
            content: "Open the Customers menu",
            trigger: ".o_main_navbar button:contains(Customers)",
            run: "click",
        },
        {
            content: "Go to My Payment Requests",
            trigger: ".dropdown-item:contains(My Payment Requests)",
            run: "click",
        },
        {
            content: "The request is listed as open",
            trigger: ".o_list_view .o_data_row:contains(Tour Customer):contains(Open)",
        },
    ],
});

registry.category("web_tour.tours").add("payment_request_send_quotation", {
    steps: () => [
        {
            content: "Send the quotation for approval and payment",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(Request Payment)",
            run: "click",
        },
        {
            content: "A quotation is sent for approval by default",
            trigger: ".modal div[name=purpose] select option:checked:contains(Quotation):not(:visible)",
        },
        {
            content: "The whole total is asked",
            trigger: ".modal div[name=amount]:contains(1,100.00)",
        },
        {
            content: "Send by email and SMS",
            trigger: ".modal div[name=channel] input[data-value=both]",
            run: "click",
        },
        {
            content: "Send",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "The request is open",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Open)",
        },
        {
            content: "It is sent by email and SMS",
            trigger: ".o_field_widget[name=channel]:contains(Email and SMS)",
        },
    ],
});
