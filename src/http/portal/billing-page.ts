/** The billing page: what the organization pays and how, and the forms that change it. Server-rendered, no script. */
import countries from 'i18n-iso-countries';
import type { BillingOverview } from '../../billing/portal/get-billing-overview.js';
import { joinAddress } from '../../domain/billing-profile.js';
import { brandName, formatDay, formatPeriod, invoiceStatusWords, isoDay, money } from './format.js';
import { flag, html, type Html } from './html.js';
import { layout } from './layout.js';

/** A form sent back with what was typed and what is wrong, field by field. */
export interface FormState {
  form: string;
  values: Record<string, string>;
  errors: Record<string, string>;
  /** A problem that is not about one field (a declined card, a code already used). */
  formError: string | null;
}

export interface BillingPageInput {
  organizationId: string;
  overview: BillingOverview;
  csrfToken: string;
  returnUrl: string | null;
  notice: string | null;
  formState: FormState | null;
  /** With the Stripe provider, the card form uses Stripe.js hosted fields. */
  stripePublishableKey: string | null;
  cardForm: 'sandbox' | 'stripe';
}

const countryNames = Object.entries(countries.getNames('en', { select: 'official' })).sort(([, a], [, b]) => a.localeCompare(b));

export function renderBillingPage(input: BillingPageInput): Html {
  const { overview } = input;
  const base = `/portal/${input.organizationId}`;
  const page = new PageForms(input, base);
  const body = html`
    ${input.notice ? html`<div class="notice" role="status"><p>${input.notice}</p></div>` : ''}
    ${statusBanner(overview)}
    <div class="grid">
      ${planSection(page, overview)}
      ${creditsSection(page, overview)}
      ${clustersSection(overview)}
      ${invoicesSection(page, overview, base)}
      ${cardsSection(page, overview)}
      ${addressesSection(page, overview)}
      ${detailsSection(page, overview)}
    </div>`;
  return layout({
    title: `Billing – ${overview.profile.organizationName}`,
    organizationName: overview.profile.organizationName,
    returnUrl: input.returnUrl,
    body,
    scripts: input.cardForm === 'stripe' && input.stripePublishableKey ? ['https://js.stripe.com/v3/', '/portal/assets/stripe-card.js'] : [],
  });
}

function statusBanner(overview: BillingOverview): Html | string {
  const { status } = overview;
  if (status.isValid && status.reason === null) return '';
  const todo: Record<string, Html> = {
    NO_CREDIT_CARD: html`Add a credit card in <a href="#cards">Payment cards</a>: invoices are charged to it.`,
    INVOICE_UNPAID: html`Pay the invoice: add a working card or make one the default in <a href="#cards">Payment cards</a>, and it is charged again.`,
    NO_CREDIT_LEFT: html`Redeem a credit code in <a href="#credits">Credits</a>, or choose a paid plan in <a href="#plan">Plan</a>.`,
  };
  const severity = status.isValid ? 'warn' : 'bad';
  return html`<div class="banner ${severity}" role="alert" aria-labelledby="banner-title">
      <h2 id="banner-title">${status.isValid ? 'Billing needs your attention' : 'Billing is not valid'}</h2>
      <p>${status.message}</p>
      ${status.reason ? html`<p><strong>What to do:</strong> ${todo[status.reason] ?? ''}</p>` : ''}
    </div>`;
}

/** Builds forms with the CSRF token, the values sent back and the errors next to their field. */
class PageForms {
  constructor(
    readonly input: BillingPageInput,
    readonly base: string,
  ) {}

  /** A problem of a list's buttons (make default, delete), shown above the list. */
  listError(form: string): Html | string {
    const message = this.state(form)?.formError;
    return message ? html`<p class="form-error" role="alert" id="${form}-error">${message}</p>` : '';
  }

  private state(form: string): FormState | null {
    return this.input.formState?.form === form ? this.input.formState : null;
  }

  /** The first field with an error gets the focus when the page comes back, so a keyboard user lands on it. */
  private firstError(form: string): string | null {
    const state = this.state(form);
    return state ? (Object.keys(state.errors)[0] ?? null) : null;
  }

  form(form: string, action: string, content: Html, options: { className?: string; label?: string } = {}): Html {
    const state = this.state(form);
    return html`<form method="post" action="${this.base}${action}" class="${options.className ?? 'stack'}" novalidate
        ${options.label ? html`aria-label="${options.label}"` : ''}>
      <input type="hidden" name="_csrf" value="${this.input.csrfToken}">
      ${state?.formError ? html`<p class="form-error" role="alert" id="${form}-form-error">${state.formError}</p>` : ''}
      ${content}
    </form>`;
  }

  /** Cards and addresses: each row has buttons to make it the default (unless it is) and to delete it; their problem above the list. */
  listWithDefault<T extends { id: string; isDefault: boolean }>(
    list: { form: string; path: string; noun: string; label: string; empty: string; items: readonly T[] },
    row: (item: T) => { name: string; text: Html },
  ): Html {
    return html`${this.listError(list.form)}
    ${
      list.items.length === 0
        ? html`<p class="empty">${list.empty}</p>`
        : html`<ul class="plain" aria-label="${list.label}">${list.items.map((item) => {
            const { name, text } = row(item);
            return html`<li>
              <span>${text}</span>
              <span class="row-actions">
                ${item.isDefault ? '' : this.action(`${list.path}/${item.id}/default`, 'Make default', `Make ${name} the default ${list.noun}`)}
                ${this.action(`${list.path}/${item.id}/delete`, 'Delete', `Delete ${name}`, 'danger')}
              </span>
            </li>`;
          })}</ul>`
    }`;
  }

  /** A button-only form (make default, delete, e-mail invoices). */
  action(action: string, label: string, accessibleLabel: string, style = 'secondary'): Html {
    return html`<form method="post" action="${this.base}${action}">
      <input type="hidden" name="_csrf" value="${this.input.csrfToken}">
      <button type="submit" class="${style}" aria-label="${accessibleLabel}">${label}</button>
    </form>`;
  }

  value(form: string, field: string, fallback: string | null | undefined): string {
    const state = this.state(form);
    return state && field in state.values ? state.values[field]! : (fallback ?? '');
  }

  field(
    form: string,
    field: string,
    label: string,
    options: { value?: string | null; type?: string; autocomplete?: string; required?: boolean; hint?: string; inputmode?: string; select?: Array<[string, string]>; multiline?: boolean } = {},
  ): Html {
    const id = `${form}-${field}`;
    const error = this.state(form)?.errors[field];
    const describedBy = [options.hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ');
    const value = this.value(form, field, options.value);
    const common = html`id="${id}" name="${field}"${flag('required', options.required === true)}${error ? html` aria-invalid="true"` : ''}${
      describedBy ? html` aria-describedby="${describedBy}"` : ''
    }${this.firstError(form) === field ? html` autofocus` : ''}`;
    const control = options.select
      ? html`<select ${common}>${options.select.map(([code, name]) => html`<option value="${code}"${flag('selected', code === value)}>${name}</option>`)}</select>`
      : options.multiline
        ? html`<textarea ${common} rows="2"${options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''}>${value}</textarea>`
        : html`<input ${common} type="${options.type ?? 'text'}" value="${value}"${options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''}${
          options.inputmode ? html` inputmode="${options.inputmode}"` : ''
        }>`;
    return html`<div class="field">
      <label for="${id}">${label}${options.required ? '' : html` <span class="hint">(optional)</span>`}</label>
      ${control}
      ${options.hint ? html`<p class="hint" id="${id}-hint">${options.hint}</p>` : ''}
      ${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
    </div>`;
  }
}

function planSection(page: PageForms, overview: BillingOverview): Html {
  const { currentCost, plans } = overview;
  const currentPlan = plans.find((plan) => plan.code === currentCost.plan);
  const choices = plans.filter((plan) => plan.code !== currentCost.plan);
  return html`<section class="card" id="plan" aria-labelledby="plan-title">
    <h2 id="plan-title">Plan</h2>
    <dl class="figures">
      <div><dt>Plan</dt><dd>${currentPlan?.name ?? currentCost.plan}</dd></div>
      <div><dt>Trial days left</dt><dd>${currentCost.remainingTrialDays}</dd></div>
      <div><dt>Renews on</dt><dd>${formatDay(currentCost.renewalAt)}</dd></div>
      <div><dt>Cost so far this period</dt><dd>${money(currentCost.totalMinor, currentCost.currency)}</dd></div>
    </dl>
    ${
      choices.length === 0
        ? html`<p class="empty">No other plan is offered to you here.</p>`
        : page.form(
            'plan',
            '/plan',
            html`<div class="inline">
              ${page.field('plan', 'plan', 'Change plan', {
                required: true,
                value: choices[0]!.code,
                select: choices.map((plan) => [plan.code, `${plan.name} – ${money(plan.monthlyPriceMinor, plan.currency)} a month`]),
              })}
              <button type="submit">Change plan</button>
            </div>
            <p class="hint">The next invoice counts each plan for the days it was yours.</p>`,
          )
    }
  </section>`;
}

function creditsSection(page: PageForms, overview: BillingOverview): Html {
  const { credits } = overview;
  return html`<section class="card" id="credits" aria-labelledby="credits-title">
    <h2 id="credits-title">Credits</h2>
    <dl class="figures"><div><dt>Credit balance</dt><dd id="credit-balance">${money(credits.balanceMinor, credits.currency)}</dd></div></dl>
    ${page.form(
      'credit-code',
      '/credit-code',
      html`<div class="inline">
        ${page.field('credit-code', 'code', 'Credit code', { required: true, autocomplete: 'off' })}
        <button type="submit">Redeem</button>
      </div>`,
    )}
    <h3>Credit history</h3>
    ${
      credits.entries.length === 0
        ? html`<p class="empty">No credit yet.</p>`
        : html`<table class="stack-narrow">
            <thead><tr><th scope="col">Date</th><th scope="col">What</th><th scope="col" class="num">Amount</th></tr></thead>
            <tbody>${credits.entries.map(
              (entry) => html`<tr>
                <td data-label="Date">${formatDay(entry.createdAt)}</td>
                <td data-label="What">${entry.description}</td>
                <td data-label="Amount" class="num">${money(entry.amountMinor, entry.currency)}</td>
              </tr>`,
            )}</tbody>
          </table>`
    }
  </section>`;
}

function clustersSection(overview: BillingOverview): Html {
  const { clusters } = overview;
  return html`<section class="card wide" id="clusters" aria-labelledby="clusters-title">
    <h2 id="clusters-title">Clusters this period</h2>
    ${
      clusters.length === 0
        ? html`<p class="empty">No cluster is billed this period.</p>`
        : html`<table class="stack-narrow">
            <thead><tr><th scope="col">Cluster</th><th scope="col" class="num">Cost so far</th><th scope="col" class="num">Least for the period</th><th scope="col" class="num">Guaranteed maximum</th></tr></thead>
            <tbody>${clusters.map(
              (cluster) => html`<tr>
                <td data-label="Cluster">${cluster.name}</td>
                <td data-label="Cost so far" class="num">${money(cluster.totalMinor, cluster.currency)}</td>
                <td data-label="Least for the period" class="num">${money(cluster.minMinor, cluster.currency)}</td>
                <td data-label="Guaranteed maximum" class="num">${money(cluster.maxMinor, cluster.currency)}</td>
              </tr>`,
            )}</tbody>
          </table>
          <p class="hint">A cluster's invoice line never exceeds its guaranteed maximum for the period.</p>`
    }
  </section>`;
}

function invoicesSection(page: PageForms, overview: BillingOverview, base: string): Html {
  const { invoices, now, profile } = overview;
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return html`<section class="card wide" id="invoices" aria-labelledby="invoices-title">
    <h2 id="invoices-title">Invoices</h2>
    ${
      invoices.length === 0
        ? html`<p class="empty">No invoice yet.</p>`
        : html`<table class="stack-narrow">
            <thead><tr><th scope="col">Number</th><th scope="col">Period</th><th scope="col">Status</th><th scope="col" class="num">Total</th><th scope="col">Document</th></tr></thead>
            <tbody>${invoices.map(
              (invoice) => html`<tr>
                <td data-label="Number">${invoice.number}</td>
                <td data-label="Period">${formatPeriod(invoice.periodStart, invoice.periodEnd)}</td>
                <td data-label="Status"><span class="status ${invoice.status}">${invoiceStatusWords(invoice.status)}</span></td>
                <td data-label="Total" class="num">${money(invoice.totalMinor, invoice.currency)} ${invoice.currency}</td>
                <td data-label="Document"><a href="${base}/invoices/${invoice.id}/pdf" download>PDF<span class="visually-hidden"> of invoice ${invoice.number}</span></a></td>
              </tr>`,
            )}</tbody>
          </table>`
    }
    <div class="row-actions spaced">
      ${page.form(
        'email-invoices',
        '/invoices/email',
        html`<button type="submit" class="secondary">E-mail me all invoices</button>
          <p class="hint">${profile.email ? html`They are sent to ${profile.email} as a ZIP of PDFs.` : 'Add a billing e-mail in Billing details first.'}</p>`,
        { className: '' },
      )}
    </div>
    <h3 id="usage-title">Usage report</h3>
    ${page.form(
      'usage-report',
      '/usage-report',
      html`<div class="inline">
        ${page.field('usage-report', 'from', 'From (first day)', { type: 'date', required: true, value: isoDay(monthStart) })}
        ${page.field('usage-report', 'to', 'To (last day)', { type: 'date', required: true, value: isoDay(now) })}
        <button type="submit">Download CSV</button>
      </div>`,
      { label: 'Usage report' },
    )}
  </section>`;
}

function defaultBadge(isDefault: boolean): Html | string {
  return isDefault ? html` <span class="badge">Default</span>` : '';
}

function cardsSection(page: PageForms, overview: BillingOverview): Html {
  const { cards } = overview;
  return html`<section class="card" id="cards" aria-labelledby="cards-title">
    <h2 id="cards-title">Payment cards</h2>
    ${page.listWithDefault({ form: 'card-actions', path: '/cards', noun: 'card', label: 'Cards on file', empty: 'No card yet.', items: cards }, (card) => {
      const name = `${brandName(card.brand)} ending in ${card.last4}`;
      return {
        name,
        text: html`${name}, expires ${String(card.expiryMonth).padStart(2, '0')}/${card.expiryYear}${
          card.isExpired ? html` <strong>(expired)</strong>` : ''
        }${defaultBadge(card.isDefault)}`,
      };
    })}
    <h3 id="add-card-title">Add a card</h3>
    ${page.input.cardForm === 'stripe' ? stripeCardForm(page) : sandboxCardForm(page)}
  </section>`;
}

function sandboxCardForm(page: PageForms): Html {
  const months: Array<[string, string]> = [
    ['', 'Month'],
    ...Array.from({ length: 12 }, (_, index): [string, string] => [String(index + 1), String(index + 1).padStart(2, '0')]),
  ];
  return page.form(
    'card',
    '/cards',
    html`${page.field('card', 'number', 'Card number', {
      required: true,
      autocomplete: 'cc-number',
      inputmode: 'numeric',
      hint: 'Test mode: 4242 4242 4242 4242 is accepted; 4000 0000 0000 0341 is accepted but its charges fail.',
    })}
      <div class="fields two">
        ${page.field('card', 'expiry_month', 'Expiry month', { required: true, select: months, autocomplete: 'cc-exp-month' })}
        ${page.field('card', 'expiry_year', 'Expiry year', { required: true, inputmode: 'numeric', autocomplete: 'cc-exp-year' })}
      </div>
      ${page.field('card', 'cvv', 'Security code (CVC)', { required: true, inputmode: 'numeric', autocomplete: 'cc-csc' })}
      <div><button type="submit">Add card</button></div>`,
    { label: 'Add a card' },
  );
}

/** The card number never reaches Bursar: Stripe.js collects it in its own frame and gives back a token. */
function stripeCardForm(page: PageForms): Html {
  return page.form(
    'card',
    '/cards',
    html`<div class="field">
        <label id="card-element-label" for="card-element">Card</label>
        <div id="card-element" class="card-element" data-publishable-key="${page.input.stripePublishableKey ?? ''}" role="group" aria-labelledby="card-element-label"></div>
        <p class="field-error" id="card-element-error" role="alert"></p>
      </div>
      <input type="hidden" name="token" id="card-token" value="">
      <div><button type="submit" id="card-submit">Add card</button></div>`,
    { label: 'Add a card', className: 'stack stripe-card-form' },
  );
}

function addressesSection(page: PageForms, overview: BillingOverview): Html {
  const { addresses } = overview;
  return html`<section class="card" id="addresses" aria-labelledby="addresses-title">
    <h2 id="addresses-title">Billing addresses</h2>
    ${page.listWithDefault(
      { form: 'address-actions', path: '/addresses', noun: 'address', label: 'Billing addresses', empty: 'No address yet.', items: addresses },
      (address) => {
        const name = address.name ?? address.company ?? address.addressLine1 ?? 'address';
        const lines = [address.company, address.addressLine1, address.addressLine2, [address.postalCode, address.city].filter(Boolean).join(' '), address.state, address.country]
          .filter((line) => line)
          .join(', ');
        return { name, text: html`<strong>${name}</strong>${defaultBadge(address.isDefault)}<br>${lines}` };
      },
    )}
    <details${flag('open', page.input.formState?.form === 'address')}>
      <summary>Add an address</summary>
      ${page.form(
        'address',
        '/addresses',
        html`<div class="fields two">
          ${page.field('address', 'name', 'Name of this address', { required: true })}
          ${page.field('address', 'company', 'Company', { required: true, autocomplete: 'organization' })}
        </div>
        ${page.field('address', 'address_line_1', 'Address line 1', { required: true, autocomplete: 'address-line1' })}
        ${page.field('address', 'address_line_2', 'Address line 2', { autocomplete: 'address-line2' })}
        <div class="fields two">
          ${page.field('address', 'city', 'City', { required: true, autocomplete: 'address-level2' })}
          ${page.field('address', 'postal_code', 'ZIP or postal code', { required: true, autocomplete: 'postal-code' })}
          ${page.field('address', 'state', 'State or province', { required: true, autocomplete: 'address-level1' })}
          ${page.field('address', 'country', 'Country', { required: true, select: [['', 'Choose a country'], ...countryNames], autocomplete: 'country' })}
        </div>
        <div><button type="submit">Add address</button></div>`,
        { label: 'Add an address' },
      )}
    </details>
  </section>`;
}

function detailsSection(page: PageForms, overview: BillingOverview): Html {
  const { profile } = overview;
  return html`<section class="card wide" id="details" aria-labelledby="details-title">
    <h2 id="details-title">Billing details</h2>
    <p class="hint">What your invoices show and where they are sent.</p>
    ${page.form(
      'details',
      '/billing-info',
      html`<div class="fields two">
        ${page.field('details', 'first_name', 'First name', { required: true, value: profile.contactFirstName, autocomplete: 'given-name' })}
        ${page.field('details', 'last_name', 'Last name', { required: true, value: profile.contactLastName, autocomplete: 'family-name' })}
        ${page.field('details', 'email', 'Billing e-mail', { required: true, type: 'email', value: profile.email, autocomplete: 'email', hint: 'Invoices are sent here.' })}
        ${page.field('details', 'company', 'Company', { value: profile.companyName, autocomplete: 'organization' })}
      </div>
      ${page.field('details', 'address', 'Address', {
        required: true,
        multiline: true,
        value: joinAddress(profile.addressLine1, profile.addressLine2),
        autocomplete: 'street-address',
        hint: 'A second line, if any, on its own line.',
      })}
      <div class="fields two">
        ${page.field('details', 'city', 'City', { required: true, value: profile.city, autocomplete: 'address-level2' })}
        ${page.field('details', 'zip', 'ZIP or postal code', { required: true, value: profile.postalCode, autocomplete: 'postal-code' })}
        ${page.field('details', 'state', 'State', { value: profile.state, autocomplete: 'address-level1', hint: 'Only for the United States.' })}
        ${page.field('details', 'country_code', 'Country', { required: true, value: profile.country, select: [['', 'Choose a country'], ...countryNames], autocomplete: 'country' })}
        ${page.field('details', 'vat_number', 'VAT number', { value: profile.taxId })}
      </div>
      <div><button type="submit">Save billing details</button></div>`,
      { label: 'Billing details' },
    )}
  </section>`;
}
