/**
 * The payment export's settings (docs/documents.md#payment-export), shared by the services that export:
 * which provider, and Stripe's key, API base and invoice terms. `PAYMENT_EXPORT_PROVIDER=none` (the
 * default) turns exports off.
 */
import { ConfigError, env, loadConfig, type ConfigOf } from '@tally/config';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { InvoiceDocument } from '../invoices/invoice';
import { PaymentExporter } from '../payments/payment-exporter';
import { KvPaymentExports } from './kv-payment-exports';
import { StripePaymentProvider } from './stripe-payment-provider';

export const paymentExportConfigSpec = {
  provider: env.oneOf(
    'PAYMENT_EXPORT_PROVIDER',
    ['none', 'stripe'] as const,
    'none',
    'payment provider finalized documents are exported to',
  ),
  stripeApiKey: env.secret('STRIPE_API_KEY', 'Stripe secret key (sk_live_... / sk_test_...)'),
  stripeApiBase: env.string(
    'STRIPE_API_BASE',
    '',
    "Stripe's API base; empty: api.stripe.com (stripe-mock: http://127.0.0.1:12111)",
  ),
  stripeCollectionMethod: env.oneOf(
    'STRIPE_COLLECTION_METHOD',
    ['send_invoice', 'charge_automatically'] as const,
    'send_invoice',
    'how Stripe collects the invoices Tally exports',
  ),
  stripeDaysUntilDue: env.int(
    'STRIPE_DAYS_UNTIL_DUE',
    30,
    1,
    365,
    'days until an exported send_invoice invoice is due',
  ),
};

export type PaymentExportConfig = ConfigOf<typeof paymentExportConfigSpec>;

/** Reads and checks the settings (a provider without its key fails the boot, with every bad key). */
export function loadPaymentExportConfig(app: string, source = process.env): PaymentExportConfig {
  const config = loadConfig(app, paymentExportConfigSpec, source);
  if (config.provider === 'stripe' && !config.stripeApiKey)
    throw new ConfigError(app, [
      { env: 'STRIPE_API_KEY', value: undefined, message: 'required when PAYMENT_EXPORT_PROVIDER=stripe' },
    ]);
  return config;
}

/** The exporter the settings describe, or undefined when exports are off. */
export async function paymentExporterFromConfig(
  config: PaymentExportConfig,
  deps: {
    nc: NatsConnection;
    names: NatsNames;
    documents: { get(tenant: string, invoiceId: string): Promise<InvoiceDocument | undefined> };
  },
): Promise<PaymentExporter | undefined> {
  if (config.provider === 'none') return undefined;
  const exports = await KvPaymentExports.open(deps.nc, deps.names);
  const provider = new StripePaymentProvider(
    {
      apiKey: config.stripeApiKey,
      ...(config.stripeApiBase ? { apiBase: config.stripeApiBase } : {}),
      collectionMethod: config.stripeCollectionMethod,
      daysUntilDue: config.stripeDaysUntilDue,
    },
    exports.payers,
  );
  return new PaymentExporter({ documents: deps.documents, exports, provider });
}
