/** @odoo-module **/

import { Component } from "@odoo/owl";
import PaymentButton from "@payment/js/payment_button";
import PaymentForm from "@payment/js/payment_form";
import publicWidget from "@web/legacy/js/public/public_widget";

/**
 * The box of the terms on the payment request's page; none on other payment pages (Odoo's
 * /payment/pay, the card-saving page), where nothing below changes anything.
 *
 * @return {HTMLInputElement|null}
 */
function getTermsCheckbox() {
    return document.querySelector("input#payment_request_terms");
}

PaymentButton.include({
    /**
     * The Pay button is enabled only once the terms are accepted, when the page asks it.
     *
     * @override
     */
    _canSubmit() {
        const checkbox = getTermsCheckbox();
        return this._super(...arguments) && (!checkbox || checkbox.checked);
    },
});

PaymentForm.include({
    /**
     * Refuse to pay before the terms are accepted, whatever enabled the button.
     *
     * @override
     */
    async _submitForm(ev) {
        const checkbox = getTermsCheckbox();
        if (checkbox && !checkbox.checked) {
            ev.stopPropagation();
            ev.preventDefault();
            checkbox.reportValidity();
            checkbox.focus();
            return;
        }
        return this._super(...arguments);
    },

    /**
     * Tell the transaction route that the customer accepted the terms.
     *
     * @override
     */
    _prepareTransactionRouteParams() {
        const params = this._super(...arguments);
        const checkbox = getTermsCheckbox();
        if (checkbox) {
            params.terms_accepted = checkbox.checked;
        }
        return params;
    },
});

publicWidget.registry.PaymentRequestTerms = publicWidget.Widget.extend({
    selector: ".o_payment_request_terms",
    events: {
        "change #payment_request_terms": "_onChangeTerms",
    },

    /**
     * Enable the Pay button when the box is ticked (if a payment option is chosen too), disable
     * it when the box is cleared.
     *
     * @private
     * @param {Event} ev
     */
    _onChangeTerms(ev) {
        Component.env.bus.trigger(
            ev.currentTarget.checked ? "enablePaymentButton" : "disablePaymentButton"
        );
    },
});

export default publicWidget.registry.PaymentRequestTerms;
