import type { InvoiceLinePart } from './invoice-line-parts.js';
import { applyCredits } from './credit-application.js';
import { isKnownCurrency } from './money.js';
import { taxLinesFor, totalTax, type TaxLine, type TaxRate } from './tax.js';

/** Invoice totals. Every amount is integer minor units of the invoice currency. */

export type InvoiceLineKind = 'plan' | 'usage' | 'credit';

export interface InvoiceLine {
  kind: InvoiceLineKind;
  description: string;
  quantity: string | null;
  /** The price of one unit of `quantity` (a plan's monthly price, a node-hour's price); null when none applies. */
  unitPriceMinor?: bigint | null;
  /** What the amount is made of (a cluster's fixed part, usage and cap); empty when quantity × unit price says it. */
  parts?: InvoiceLinePart[];
  amountMinor: bigint;
}

/** What a plan or usage line brings besides its description and amount. */
type LineDetails = Pick<InvoiceLine, 'unitPriceMinor' | 'parts'>;

export interface ComposeInvoiceInput {
  currency: string;
  planLines: Array<{ description: string; quantity?: string | null; amountMinor: bigint } & LineDetails>;
  usageLines: Array<{ description: string; quantity: string | null; amountMinor: bigint } & LineDetails>;
  availableCreditMinor: bigint;
  applyCredits: boolean;
  /** The tax rates that apply (see tax.ts); none by default. */
  taxRates?: ReadonlyArray<Pick<TaxRate, 'name' | 'percentage'>>;
}

export interface ComposedInvoice {
  lines: InvoiceLine[];
  subtotalMinor: bigint;
  /** One line per rate, each on the subtotal (the full price: credits are a payment, applied after tax). */
  taxLines: TaxLine[];
  taxMinor: bigint;
  creditsAppliedMinor: bigint;
  totalMinor: bigint;
}

function detailsOf(line: LineDetails): LineDetails {
  return {
    ...(line.unitPriceMinor !== undefined ? { unitPriceMinor: line.unitPriceMinor } : {}),
    ...(line.parts !== undefined ? { parts: line.parts } : {}),
  };
}

export const CREDITS_APPLIED_DESCRIPTION = 'Credits applied';

/**
 * Lines in order: plan lines, usage lines, then (only when credits are actually applied, i.e. > 0)
 * one negative 'Credits applied' line.
 * subtotal = Σ plan + usage; tax = Σ per rate of round(subtotal × rate) (none when subtotal ≤ 0);
 * credits applied = applyCredits ? clamp(availableCredit, 0, max(subtotal + tax, 0)) : 0;
 * total = subtotal + tax − credits applied. Throws RangeError for an unknown currency.
 */
export function composeInvoice(input: ComposeInvoiceInput): ComposedInvoice {
  if (!isKnownCurrency(input.currency)) throw new RangeError('unknown invoice currency');

  const lines: InvoiceLine[] = [];
  let subtotalMinor = 0n;
  for (const line of input.planLines) {
    lines.push({ kind: 'plan', description: line.description, quantity: line.quantity ?? null, amountMinor: line.amountMinor, ...detailsOf(line) });
    subtotalMinor += line.amountMinor;
  }
  for (const line of input.usageLines) {
    lines.push({ kind: 'usage', description: line.description, quantity: line.quantity, amountMinor: line.amountMinor, ...detailsOf(line) });
    subtotalMinor += line.amountMinor;
  }

  const taxLines = subtotalMinor > 0n ? taxLinesFor(subtotalMinor, input.taxRates ?? []) : [];
  const taxMinor = totalTax(taxLines);
  const grossMinor = subtotalMinor + taxMinor;
  // Credits are a payment: applied to the amount after tax.
  const { creditsAppliedMinor } = applyCredits(grossMinor, input.applyCredits ? input.availableCreditMinor : 0n);
  if (creditsAppliedMinor > 0n) {
    lines.push({ kind: 'credit', description: CREDITS_APPLIED_DESCRIPTION, quantity: null, amountMinor: -creditsAppliedMinor });
  }

  return { lines, subtotalMinor, taxLines, taxMinor, creditsAppliedMinor, totalMinor: grossMinor - creditsAppliedMinor };
}
