// Stripe card form of the billing page: the card number is typed into Stripe's own frame (Stripe.js Elements) and
// only the token Stripe gives back is posted to Bursar. Loaded only when Bursar runs with PAYMENT_PROVIDER=stripe.
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var mount = document.getElementById('card-element');
  var form = document.querySelector('form.stripe-card-form');
  if (!mount || !form || typeof window.Stripe !== 'function') return;
  var stripe = window.Stripe(mount.getAttribute('data-publishable-key'));
  var card = stripe.elements().create('card', { hidePostalCode: true });
  card.mount(mount);
  var errorText = document.getElementById('card-element-error');
  card.on('change', function (event) {
    errorText.textContent = event.error ? event.error.message : '';
  });
  form.addEventListener('submit', function (event) {
    var token = document.getElementById('card-token');
    if (token.value) return;
    event.preventDefault();
    stripe.createToken(card).then(function (result) {
      if (result.error) {
        errorText.textContent = result.error.message;
        return;
      }
      token.value = result.token.id;
      form.submit();
    });
  });
});
