/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("payment_request_remind", {
    steps: () => [
        {
            content: "The next automatic reminder is shown",
            trigger: ".o_form_view div[name=next_reminder] .o_field_widget[name=next_reminder_date]",
        },
        {
            content: "The customer has not opened the link yet",
            trigger: ".o_form_view div[name=viewed]:contains(Not viewed yet)",
        },
        {
            content: "Remind the customer",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_remind]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The reminder is counted",
            trigger: ".o_form_view .o_field_widget[name=reminder_count]:contains(1)",
        },
        {
            content: "The reminder is in the chatter",
            trigger: ".o-mail-Message:contains(Reminder)",
        },
    ],
});
