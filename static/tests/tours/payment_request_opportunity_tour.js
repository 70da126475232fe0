/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("payment_request_opportunity_deposit", {
    steps: () => [
        {
            content: "Open the menu of the opportunity's card in the pipeline",
            trigger: ".o_kanban_record:contains(Tour hatchback)",
            run: "hover && click .o_kanban_record:contains(Tour hatchback) .o_dropdown_kanban .dropdown-toggle",
        },
        {
            content: "Request a payment",
            trigger: ".dropdown-menu .dropdown-item:contains(Request Payment)",
            run: "click",
        },
        {
            content: "A deposit is proposed",
            trigger: ".modal div[name=purpose] select option:checked:contains(Deposit):not(:visible)",
        },
        {
            content: "The opportunity is named",
            trigger: ".modal div[name=opportunity_id]:contains(Tour hatchback)",
        },
        {
            content: "10% of the expected revenue is proposed",
            trigger: ".modal div[name=amount] input:value(1,200.00)",
        },
        {
            content: "The customer agreed to 1,500 on the phone",
            trigger: ".modal div[name=amount] input",
            run: "edit 1500",
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
            content: "It belongs to the opportunity",
            trigger: ".o_form_view div[name=opportunity_id]:contains(Tour hatchback)",
        },
    ],
});
