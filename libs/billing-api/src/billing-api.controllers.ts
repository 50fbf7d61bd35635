import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { BadRequestError } from '@tally/errors';
import { ApiKeyGuard, CurrentPrincipal, Roles, type Principal } from '@tally/nest-kit';
import type { FastifyReply } from 'fastify';
import { DeadLetterReplayService, type ReplayStarted, type ReplayStatus } from './dead-letter-replay.service';
import type { InvoiceDocument, PaymentExportOutcome } from '@tally/billing';
import { PaymentExportService } from './payment-export.service';
import { renderInvoiceHtml } from './documents/invoice-html';
import type { PdfRenderer } from './documents/chromium-pdf';
import { documentFormat, PDF_RENDERER } from './documents/document-format';
import { InvoiceReadService, type InvoiceSummary } from './invoice-read.service';
import { CreditBalanceService } from './credit-balance.service';
import { CreditNoteService } from './credit-note.service';
import type { CreditBalance, UnitGrantBalance } from '@tally/pricing';
import { SimulationService, type SimulationStatus } from './simulation.service';

type QueryString = Record<string, string | string[] | undefined>;

function only(query: QueryString, allowed: string[]): void {
  for (const name of Object.keys(query)) {
    if (!allowed.includes(name)) {
      throw new BadRequestError(
        'UNKNOWN_PARAMETER',
        `Unknown query parameter '${name}'; accepted: ${allowed.join(', ')}`,
      );
    }
  }
}

function single(query: QueryString, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value))
    throw new BadRequestError('PARAMETER_REPEATED', `Query parameter '${name}' may appear once`);
  return value;
}

/** HTTP driver of the invoice ledger: the tenant is always the caller's key's. */
@ApiTags('invoices')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
@Roles('query')
export class InvoicesController {
  constructor(
    @Inject(InvoiceReadService) private readonly invoices: InvoiceReadService,
    @Inject(PDF_RENDERER) private readonly pdf: PdfRenderer,
  ) {}

  @Get('customers/:customer/invoices')
  @ApiOperation({ summary: "A customer's invoices and adjustments, oldest period first (docs/billing.md)" })
  @ApiParam({ name: 'customer', description: 'customer external id (URL-encoded)' })
  @ApiQuery({ name: 'period', required: false, description: 'only this period, YYYY-MM' })
  @ApiQuery({ name: 'kind', required: false, description: 'only this kind: invoice, adjustment or interim' })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Param('customer') customer: string,
    @Query() query: QueryString,
  ): Promise<{ invoices: InvoiceSummary[] }> {
    only(query, ['period', 'kind']);
    return {
      invoices: await this.invoices.list(
        principal.tenant,
        customer,
        single(query, 'period'),
        single(query, 'kind'),
      ),
    };
  }

  @Get('invoices/:id')
  @ApiOperation({
    summary:
      'One invoice or adjustment as JSON; as a printable page with `.html` or `?format=html`; as a PDF with `.pdf`, `?format=pdf` or `Accept: application/pdf` (docs/documents.md)',
  })
  @ApiParam({
    name: 'id',
    description: 'document id, e.g. inv-2026-10-3f9a01c2d4e5f6a7-v1 (append .html or .pdf)',
  })
  @ApiQuery({ name: 'format', required: false, description: 'json (default), html or pdf' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: QueryString,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InvoiceDocument | string | Buffer> {
    only(query, ['format']);
    const wanted = documentFormat(id, single(query, 'format'), accept);
    const doc = await this.invoices.get(principal.tenant, wanted.id);
    if (wanted.format === 'json') return doc;
    if (wanted.format === 'html') {
      void reply.header('content-type', 'text/html; charset=utf-8');
      return renderInvoiceHtml(doc);
    }
    const pdf = await this.pdf.render(renderInvoiceHtml(doc));
    void reply.header('content-type', 'application/pdf');
    void reply.header('content-disposition', `inline; filename="${doc.invoiceId}.pdf"`);
    return pdf;
  }
}

/** Credit notes on request (docs/finance.md#credit-notes) and payment export: admin keys only. */
@ApiTags('invoices')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
@Roles('admin')
export class CreditNotesController {
  constructor(
    @Inject(CreditNoteService) private readonly notes: CreditNoteService,
    @Inject(PaymentExportService) private readonly payments: PaymentExportService,
  ) {}

  @Post('invoices/:id/payment-export')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Pushes the document to the payment provider (Stripe) now, once: a re-run answers `already_exported` with the provider's id (docs/documents.md#payment-export)",
  })
  @ApiParam({
    name: 'id',
    description: 'any document id: invoice, interim invoice, adjustment or credit note',
  })
  exportPayment(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
  ): Promise<PaymentExportOutcome> {
    return this.payments.export(principal.tenant, id);
  }

  @Post('invoices/:id/credit-notes')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Issue a credit note against an invoice: full (no lines), per line, or an amount of a line',
    description:
      'Body: {"reason": "...", "lines": [{"lineId": "sub_1/base", "amountMinor": "3000"}]}. The answer is the new document (an adjustment with `creditNote` and `creditNoteNumber`).',
  })
  @ApiParam({ name: 'id', description: 'the invoice id, e.g. inv-2026-10-3f9a01c2d4e5f6a7-v1' })
  issue(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<InvoiceDocument> {
    return this.notes.issue(principal.tenant, id, body);
  }
}

/** A customer's prepaid credit balance (docs/finance.md#prepaid-credits). */
@ApiTags('credits')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(ApiKeyGuard)
@Roles('query')
export class CreditsController {
  constructor(@Inject(CreditBalanceService) private readonly credits: CreditBalanceService) {}

  @Get('customers/:customer/credits')
  @ApiOperation({
    summary: "A customer's credit balance, buckets and ledger (grants, draws, voids, expiries)",
  })
  @ApiParam({ name: 'customer', description: 'customer external id (URL-encoded)' })
  @ApiQuery({
    name: 'asOf',
    required: false,
    description: "local date YYYY-MM-DD; today in the customer's zone",
  })
  @ApiQuery({ name: 'currency', required: false, description: "ISO 4217 code; the tenant's by default" })
  @ApiQuery({
    name: 'meter',
    required: false,
    description: 'a meter key: the unit grants of that meter (units, not money)',
  })
  async balance(
    @CurrentPrincipal() principal: Principal,
    @Param('customer') customer: string,
    @Query() query: QueryString,
  ): Promise<CreditBalance | UnitGrantBalance> {
    only(query, ['asOf', 'currency', 'meter']);
    const meter = single(query, 'meter');
    if (meter !== undefined)
      return this.credits.unitBalance(principal.tenant, customer, meter, single(query, 'asOf'));
    return this.credits.balance(principal.tenant, customer, single(query, 'asOf'), single(query, 'currency'));
  }
}

/** Dead-letter replay: admin keys only, for their own tenant. */
@ApiTags('dead letters')
@ApiBearerAuth()
@Controller('v1/dead-letters')
@UseGuards(ApiKeyGuard)
@Roles('admin')
export class DeadLettersController {
  constructor(@Inject(DeadLetterReplayService) private readonly replays: DeadLetterReplayService) {}

  @Post('replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replays dead letters that today\'s catalog accepts: body {"filter": {...}, "dryRun": bool}',
  })
  start(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<ReplayStarted> {
    return this.replays.start(principal.tenant, body);
  }

  @Get('replays/:replayId')
  @ApiOperation({ summary: 'Counts of a replay: so far while it runs, final once done' })
  status(
    @CurrentPrincipal() principal: Principal,
    @Param('replayId') replayId: string,
  ): Promise<ReplayStatus> {
    return this.replays.status(principal.tenant, replayId);
  }
}

/** Price simulations (docs/simulations.md): admin keys only, for their own tenant. */
@ApiTags('simulations')
@ApiBearerAuth()
@Controller('v1/simulations')
@UseGuards(ApiKeyGuard)
@Roles('admin')
export class SimulationsController {
  constructor(@Inject(SimulationService) private readonly simulations: SimulationService) {}

  @Post()
  @ApiOperation({
    summary:
      'Re-prices closed periods under changed plans: body {"periods": [...], "customers": "all" | {"ids": [...]} | {"filter": {...}}, "changes": [{"plan", "draft" | "patch"}]}; small ones answer at once (200), large ones start a workflow (202)',
  })
  @ApiQuery({ name: 'format', required: false, description: 'json (default) or csv (direct answers)' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Query() query: QueryString,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    only(query, ['format']);
    const format = single(query, 'format') ?? 'json';
    if (format !== 'json' && format !== 'csv')
      throw new BadRequestError('INVALID_FORMAT', "format must be 'json' or 'csv'");
    const answer = await this.simulations.create(principal.tenant, body);
    // The status depends on the answer (200 computed, 202 started), so the reply is sent here.
    if (answer.mode === 'workflow') return void reply.status(202).send(answer);
    if (format === 'json') return void reply.status(200).send(answer);
    void reply
      .status(200)
      .header('content-type', 'text/csv; charset=utf-8')
      .send(this.simulations.directCsv(answer.results));
  }

  @Get(':id')
  @ApiOperation({
    summary:
      'Progress of a simulation while it runs; its summary and results (paged) once done; `.csv` for all of them',
  })
  @ApiParam({ name: 'id', description: 'simulation id (append .csv for the CSV export)' })
  @ApiQuery({ name: 'after', required: false, description: 'the `next` of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: 'results per page, 1 to 1000 (default 100)' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: QueryString,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SimulationStatus | string> {
    only(query, ['after', 'limit', 'format']);
    const format = single(query, 'format') ?? (id.endsWith('.csv') ? 'csv' : 'json');
    if (format !== 'json' && format !== 'csv')
      throw new BadRequestError('INVALID_FORMAT', "format must be 'json' or 'csv'");
    const simulationId = id.endsWith('.csv') ? id.slice(0, -4) : id;
    if (format === 'csv') {
      const csv = await this.simulations.csv(principal.tenant, simulationId);
      void reply.header('content-type', 'text/csv; charset=utf-8');
      void reply.header('content-disposition', `attachment; filename="simulation-${simulationId}.csv"`);
      return csv;
    }
    const limitText = single(query, 'limit');
    const limit = limitText === undefined ? 100 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new BadRequestError('INVALID_LIMIT', 'limit must be an integer from 1 to 1000');
    return this.simulations.status(principal.tenant, simulationId, single(query, 'after'), limit);
  }
}
