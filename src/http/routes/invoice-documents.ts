/** Public: invoice PDFs and archives behind signed, expiring links (no credentials). */
import { Type, type FastifyPluginAsyncTypebox, type Static, type TSchema } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { openSignedCreditNotePdf } from '../../billing/credit-notes/credit-note-documents.js';
import { openSignedInvoiceArchive, openSignedInvoicePdf } from '../../billing/invoices/open-signed-document.js';
import { errorResponses } from '../schemas.js';

const tags = ['Documents'];
const uuidPattern = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

// Both parts are optional in the schema so that a link missing one answers 403 like any other bad link.
const SignedQuery = Type.Object({
  expires: Type.Optional(Type.String({ maxLength: 20 })),
  signature: Type.Optional(Type.String({ maxLength: 100 })),
});

/** The schema of a stored document behind a signed link: `{organizationId}/{id}.{extension}`, answered as bytes. */
function signedDocumentSchema<Body extends TSchema>(input: { operationId: string; summary: string; description: string; extension: string; body: Body }) {
  return {
    operationId: input.operationId,
    summary: input.summary,
    description: input.description,
    tags,
    security: [],
    params: Type.Object({
      organizationId: Type.String({ format: 'uuid' }),
      fileName: Type.String({ pattern: `^${uuidPattern}\\.${input.extension}$` }),
    }),
    querystring: SignedQuery,
    response: { 200: input.body, ...errorResponses(400, 403, 404) },
  };
}

/** The schema of a stored PDF (invoice, credit note) behind a signed link. */
function signedPdfSchema(operationId: string, document: string, linkSource: string) {
  return signedDocumentSchema({
    operationId,
    summary: `${document} PDF behind a signed link`,
    description: `The URL comes from ${linkSource}; it expires.`,
    extension: 'pdf',
    body: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: `The ${document.toLowerCase()} PDF (application/pdf)` }),
  });
}

interface StoredPdf {
  number: string;
  pdf: Buffer;
  sha256: string;
}

/** A stored PDF, byte for byte, with its number as file name and its digest. */
function sendStoredPdf(reply: FastifyReply, stored: StoredPdf) {
  return reply
    .type('application/pdf')
    .header('content-disposition', `inline; filename="${stored.number}.pdf"`)
    .header('cache-control', 'private, no-store')
    .header('x-content-sha256', stored.sha256)
    .send(stored.pdf);
}

/** What a signed link names: the organization, the document (its file name without the extension) and the signature. */
interface SignedLink {
  organizationId: string;
  documentId: string;
  query: Static<typeof SignedQuery>;
}

function signedLinkOf(request: { params: { organizationId: string; fileName: string }; query: Static<typeof SignedQuery> }): SignedLink {
  const { organizationId, fileName } = request.params;
  return { organizationId, documentId: fileName.slice(0, fileName.lastIndexOf('.')), query: request.query };
}

/** The PDFs behind signed links, by the folder of their path. */
const signedPdfs: Array<{
  folder: string;
  schema: ReturnType<typeof signedPdfSchema>;
  open: (context: AppContext, link: SignedLink) => Promise<StoredPdf>;
}> = [
  {
    folder: 'invoices',
    schema: signedPdfSchema('getInvoiceDocument', 'Invoice', 'GET /organization/{organizationId}/invoice/{invoiceId}/download'),
    open: (context, { organizationId, documentId, query }) => openSignedInvoicePdf(context, { organizationId, invoiceId: documentId, query }),
  },
  {
    folder: 'credit-notes',
    schema: signedPdfSchema('getCreditNoteDocument', 'Credit note', 'GET /organization/{organizationId}/creditNotes/{creditNoteId}/download'),
    open: (context, { organizationId, documentId, query }) => openSignedCreditNotePdf(context, { organizationId, creditNoteId: documentId, query }),
  },
];

export const invoiceDocumentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  for (const { folder, schema, open } of signedPdfs) {
    app.get(`/documents/:organizationId/${folder}/:fileName`, { config: { auth: 'public' }, schema }, async (request, reply) =>
      sendStoredPdf(reply, await open(request.bursar, signedLinkOf(request))),
    );
  }

  app.get(
    '/documents/:organizationId/archives/:fileName',
    {
      config: { auth: 'public' },
      schema: signedDocumentSchema({
        operationId: 'getInvoiceArchive',
        summary: 'Invoice archive behind a signed link',
        description: 'The URL comes in the e-mail sent after POST /organization/{organizationId}/downloadInvoices when the archive is too large to attach.',
        extension: 'zip',
        body: Type.Unsafe<NodeJS.ReadableStream>({ type: 'string', format: 'binary', description: 'The ZIP archive (application/zip)' }),
      }),
    },
    async (request, reply) => {
      const { organizationId, documentId, query } = signedLinkOf(request);
      const archive = await openSignedInvoiceArchive(request.bursar, { organizationId, archiveId: documentId, query });
      return reply
        .type('application/zip')
        .header('content-length', archive.size)
        .header('content-disposition', 'attachment; filename="invoices.zip"')
        .header('cache-control', 'private, no-store')
        .send(archive.stream);
    },
  );
};
