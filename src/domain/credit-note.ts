/**
 * Credit notes, pure: how much of an invoice a credit note credits (before tax, its tax in reverse, its total) and
 * how that money goes back. Amounts are positive integer minor units.
 *
 * - Tax in reverse: each of the invoice's tax lines is applied to the credited amount with the same rounding as at
 *   issue (half away from zero); the note that credits the rest of the invoice credits the rest of each tax line, so
 *   that the credit notes of an invoice add up exactly to it.
 * - Settlement, in this order: a paid invoice is refunded to the card up to what the card paid (less earlier
 *   refunds), then credits it used are returned; an unpaid one has what is owed lowered first, then credits it used
 *   are returned.
 */
import { taxOn, type TaxLine } from './tax.js';

export interface CreditableInvoice {
  subtotalMinor: bigint;
  taxLines: readonly TaxLine[];
  /** What was paid or is owed besides credits: total = subtotal + tax − credits applied. */
  totalMinor: bigint;
  creditsAppliedMinor: bigint;
  paid: boolean;
}

/** What earlier credit notes of the invoice credited and settled. */
export interface CreditedSoFar {
  subtotalMinor: bigint;
  /** Tax credited per tax line of the invoice, in its order. */
  taxByLine: readonly bigint[];
  refundedMinor: bigint;
  creditsReturnedMinor: bigint;
  owedReducedMinor: bigint;
}

export interface CreditNoteAmounts {
  subtotalMinor: bigint;
  taxLines: TaxLine[];
  taxMinor: bigint;
  totalMinor: bigint;
}

export interface CreditNoteSettlement {
  refundMinor: bigint;
  creditsReturnedMinor: bigint;
  owedReducedMinor: bigint;
}

/** What is left to credit before tax; a credit note asks for at most this. */
export function creditableSubtotal(invoice: CreditableInvoice, soFar: CreditedSoFar): bigint {
  return invoice.subtotalMinor - soFar.subtotalMinor;
}

/** The amounts of a credit note of `subtotalMinor` (before tax), which must be in 1..creditableSubtotal. */
export function creditNoteAmounts(invoice: CreditableInvoice, soFar: CreditedSoFar, subtotalMinor: bigint): CreditNoteAmounts {
  const remaining = creditableSubtotal(invoice, soFar);
  if (subtotalMinor <= 0n || subtotalMinor > remaining) throw new RangeError(`a credit note credits 1 to ${remaining} before tax`);
  const creditsTheRest = subtotalMinor === remaining;
  const taxLines = invoice.taxLines.map((line, index) => ({
    name: line.name,
    percentage: line.percentage,
    taxableMinor: subtotalMinor,
    taxMinor: creditsTheRest ? line.taxMinor - (soFar.taxByLine[index] ?? 0n) : taxOn(subtotalMinor, line.percentage),
  }));
  const taxMinor = taxLines.reduce((sum, line) => sum + line.taxMinor, 0n);
  return { subtotalMinor, taxLines, taxMinor, totalMinor: subtotalMinor + taxMinor };
}

function smaller(a: bigint, b: bigint): bigint {
  const least = a < b ? a : b;
  return least > 0n ? least : 0n;
}

/** How `totalMinor` goes back (see the top of this file); the parts add up to `totalMinor`. */
export function settleCreditNote(invoice: CreditableInvoice, soFar: CreditedSoFar, totalMinor: bigint): CreditNoteSettlement {
  let left = totalMinor;
  let refundMinor = 0n;
  let owedReducedMinor = 0n;
  if (invoice.paid) {
    refundMinor = smaller(left, invoice.totalMinor - soFar.refundedMinor);
    left -= refundMinor;
  } else {
    owedReducedMinor = smaller(left, invoice.totalMinor - soFar.owedReducedMinor);
    left -= owedReducedMinor;
  }
  const creditsReturnedMinor = smaller(left, invoice.creditsAppliedMinor - soFar.creditsReturnedMinor);
  left -= creditsReturnedMinor;
  // Never happens while credit notes credit at most subtotal + tax = total + credits applied.
  if (left > 0n) throw new RangeError(`credit note of ${totalMinor} exceeds what the invoice holds by ${left}`);
  return { refundMinor, creditsReturnedMinor, owedReducedMinor };
}
