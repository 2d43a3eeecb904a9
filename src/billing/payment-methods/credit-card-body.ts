/** A card as the organization's card list answers it: one presenter for the route and the events that carry a card. */
import type { CreditCardView } from './credit-card.js';

export interface CreditCardBody {
  id: string;
  created_at: string;
  expiry_month: number;
  expiry_year: number;
  last_digit: string;
  is_expired: boolean;
  brand: string;
  is_default: boolean;
}

export function presentCreditCard(card: CreditCardView): CreditCardBody {
  return {
    id: card.id,
    created_at: card.createdAt.toISOString(),
    expiry_month: card.expiryMonth,
    expiry_year: card.expiryYear,
    last_digit: card.last4,
    is_expired: card.isExpired,
    brand: card.brand,
    is_default: card.isDefault,
  };
}
