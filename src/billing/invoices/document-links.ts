/**
 * Where invoice PDFs and invoice archives are served without credentials, behind signed, expiring links.
 * The organization is part of every path, so that the public routes read each row by organization too.
 */
import type { AppContext } from '../../app-context.js';
import { signLink } from '../../domain/signed-links.js';

/** An archive link is sent by e-mail and may be opened days later. */
export const ARCHIVE_LINK_TTL_SECONDS = 7 * 24 * 3600;

export function invoicePdfPath(organizationId: string, invoiceId: string): string {
  return `/documents/${organizationId}/invoices/${invoiceId}.pdf`;
}

export function creditNotePdfPath(organizationId: string, creditNoteId: string): string {
  return `/documents/${organizationId}/credit-notes/${creditNoteId}.pdf`;
}

export function invoiceArchivePath(organizationId: string, archiveId: string): string {
  return `/documents/${organizationId}/archives/${archiveId}.zip`;
}

/** The configured public URL, else the one the caller reached us on. */
export function publicBaseUrl(context: AppContext, requestBaseUrl: string | null): string {
  const base = context.config.publicUrl ?? requestBaseUrl;
  if (base === null) throw new Error('no public URL: set BURSAR_PUBLIC_URL');
  return base;
}

export function signedDocumentUrl(context: AppContext, baseUrl: string, documentPath: string, ttlSeconds: number): string {
  const expiresAt = new Date(context.clock.now().getTime() + ttlSeconds * 1000);
  return signLink(context.secrets.linkSigningKey, baseUrl, documentPath, expiresAt);
}
