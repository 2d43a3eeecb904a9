/**
 * What an invoiced (paid) plan needs before an organization may move to it: someone to send the invoice to and
 * an address to put on it (seed 002: billing details must be configured before subscribing to a paid plan).
 */
export const invoicedPlanDetails = ['email', 'addressLine1', 'city', 'postalCode', 'country'] as const;
export type InvoicedPlanDetail = (typeof invoicedPlanDetails)[number];

/** The details still missing, in a stable order; blank values count as missing. Empty when the profile is complete. */
export function missingDetailsForInvoicedPlan(profile: Readonly<Record<InvoicedPlanDetail, string | null>>): InvoicedPlanDetail[] {
  return invoicedPlanDetails.filter((detail) => {
    const value = profile[detail];
    return value === null || value.trim() === '';
  });
}
