/**
 * How a credit balance pays an invoice: a step of its own, applied to the amount the invoice comes to (after tax,
 * once invoices carry tax) and before anything is charged to a card. Every plan kind pays from credits first.
 * Pure; amounts are integer minor units of the invoice currency.
 */

export interface CreditApplication {
  /** Taken from the balance: never more than the amount, never negative. */
  creditsAppliedMinor: bigint;
  /** What is left to pay by card (or owed). */
  remainingMinor: bigint;
}

export function applyCredits(amountMinor: bigint, balanceMinor: bigint): CreditApplication {
  const creditsAppliedMinor = amountMinor > 0n && balanceMinor > 0n ? (balanceMinor < amountMinor ? balanceMinor : amountMinor) : 0n;
  return { creditsAppliedMinor, remainingMinor: amountMinor - creditsAppliedMinor };
}
