/**
 * What an invoice line is made of, so that its reader can check the arithmetic: a cluster's line is its fixed part
 * (prorated by its time in the period), its usage (node-hours × hourly price) and, when the range shown for it
 * bounded the charge, the cap or minimum that applied. Pure: every amount is integer minor units.
 */
import { clusterActiveHours, type ClusterCharge, type ClusterPeriodInput } from './cluster-cost.js';
import { periodPortion } from './proration.js';

export interface InvoiceLinePart {
  description: string;
  quantity: string | null;
  unitPriceMinor: bigint | null;
  amountMinor: bigint;
}

const count = new Intl.NumberFormat('en-US');

function nodes(value: number): string {
  return value === 1 ? '1 node' : `${count.format(value)} nodes`;
}

function hours(value: bigint): string {
  return value === 1n ? '1 hour' : `${count.format(value)} hours`;
}

/** The node-hours of a usage line, as its quantity column shows them: "1,250". */
export function nodeHoursQuantity(usedNodeHours: bigint): string {
  return count.format(usedNodeHours);
}

/**
 * The parts of a cluster's charge for a period, summing to `charge.amountMinor`. Empty when the line is its usage
 * alone (no fixed part, nothing bounded): then quantity × unit price of the line itself is the amount.
 */
export function clusterLineParts(input: ClusterPeriodInput & { usedNodeHours: bigint }, charge: ClusterCharge): InvoiceLinePart[] {
  const bounded = charge.cappedAtMax || charge.raisedToMin;
  if (input.pricing.fixedMonthlyMinor === 0n && !bounded) return [];
  const parts: InvoiceLinePart[] = [];
  if (input.pricing.fixedMonthlyMinor > 0n) {
    const from = input.activeFrom > input.periodStart ? input.activeFrom : input.periodStart;
    const to = input.activeUntil !== null && input.activeUntil < input.periodEnd ? input.activeUntil : input.periodEnd;
    // Charged the whole fixed price (a span a few seconds short rounds to it): labelled as the whole period.
    const whole = charge.fixedMinor === input.pricing.fixedMonthlyMinor;
    const portion = whole ? periodPortion(input.periodStart, input.periodEnd, input.periodStart, input.periodEnd) : periodPortion(input.periodStart, input.periodEnd, from, to);
    parts.push({
      description: `Fixed part (${portion.label})`,
      quantity: portion.quantity,
      unitPriceMinor: input.pricing.fixedMonthlyMinor,
      amountMinor: charge.fixedMinor,
    });
  }
  parts.push({
    description: 'Usage (node-hours)',
    quantity: nodeHoursQuantity(input.usedNodeHours),
    unitPriceMinor: input.pricing.hourlyPricePerNodeMinor,
    amountMinor: charge.usageMinor,
  });
  if (bounded) {
    const activeHours = clusterActiveHours(input.periodStart, input.periodEnd, input.activeFrom, input.activeUntil);
    const description = charge.cappedAtMax
      ? `Cap: at most ${nodes(input.pricing.maxNodes)} for ${hours(activeHours)}`
      : `Minimum: ${nodes(input.pricing.minNodes)} for ${hours(activeHours)}`;
    parts.push({ description, quantity: null, unitPriceMinor: null, amountMinor: charge.amountMinor - charge.fixedMinor - charge.usageMinor });
  }
  return parts;
}
