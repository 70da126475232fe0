/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("payment_request_analysis", {
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open Invoicing",
            trigger: ".o_app:contains(Invoicing)",
            run: "click",
        },
        {
            content: "Open the Reporting menu of Invoicing",
            trigger: ".o_main_navbar button:contains(Reporting)",
            run: "click",
        },
        {
            content: "Open the analysis of payment requests",
            trigger: ".dropdown-item:contains(Payment Request Analysis)",
            run: "click",
        },
        {
            content: "The analysis opens on its graph",
            trigger: ".o_graph_view .o_graph_renderer canvas",
        },
        {
            content: "Switch to the pivot",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "The pivot shows the paid rate by channel",
            trigger: ".o_pivot th:contains(Paid Rate (%))",
        },
        {
            content: "The email channel has a row",
            trigger: ".o_pivot .o_pivot_header_cell_closed:contains(Email)",
        },
    ],
});
