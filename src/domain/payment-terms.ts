/** The payment terms an invoice states, decided by how its plan is paid; frozen into the invoice at issue. */
export function paymentTerms(planKind: 'credits' | 'invoiced', graceDays: number): string {
  return planKind === 'invoiced'
    ? `Charged to the card on file at issue; payable within ${graceDays} days of the issue date.`
    : `Paid from the credit balance at issue; any remainder is payable within ${graceDays} days of the issue date.`;
}
