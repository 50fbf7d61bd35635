/**
 * The export ledger of payment providers in the billing KV bucket (`<prefix>_billing`, history 1):
 * `exported.<tenant>.<provider>.<document id>` per exported document and
 * `payer.<tenant>.<provider>.<customer, encoded>` per provider customer. Keys are created once (KV
 * `create`), never updated: a second writer of the same key reads the first one's record instead.
 */
import type { KV } from '@nats-io/kv';
import { encodeCustomerId, openBillingBucket } from '@tally/catalog';
import type { NatsConnection, NatsNames } from '@tally/nats';
import type { PaymentExportLedgerPort, PaymentExportRecord } from '../payments/payment-exporter';
import { isWrongLastSequence } from './closed-periods';
import type { PayerMapPort } from './stripe-payment-provider';

export const paymentExportKeys = {
  exported: (tenant: string, provider: string, documentId: string) =>
    `exported.${tenant}.${provider}.${documentId}`,
  payer: (tenant: string, provider: string, customer: string) =>
    `payer.${tenant}.${provider}.${encodeCustomerId(customer)}`,
};

export class KvPaymentExports implements PaymentExportLedgerPort {
  /** The provider customers of Tally customers, in the same bucket. */
  readonly payers: PayerMapPort;

  constructor(private readonly kv: KV) {
    this.payers = {
      get: (tenant, provider, customer) =>
        this.read<string>(paymentExportKeys.payer(tenant, provider, customer)),
      put: (tenant, provider, customer, externalId) =>
        this.createOnce(paymentExportKeys.payer(tenant, provider, customer), externalId),
    };
  }

  static async open(nc: NatsConnection, names: NatsNames): Promise<KvPaymentExports> {
    return new KvPaymentExports(await openBillingBucket(nc, names));
  }

  get(tenant: string, provider: string, documentId: string): Promise<PaymentExportRecord | undefined> {
    return this.read<PaymentExportRecord>(paymentExportKeys.exported(tenant, provider, documentId));
  }

  put(record: PaymentExportRecord): Promise<PaymentExportRecord> {
    return this.createOnce(
      paymentExportKeys.exported(record.tenant, record.provider, record.documentId),
      record,
    );
  }

  private async read<T>(key: string): Promise<T | undefined> {
    const entry = await this.kv.get(key);
    return entry && entry.operation === 'PUT' ? entry.json<T>() : undefined;
  }

  /** Creates `key` with `value` unless it exists; the stored value either way. */
  private async createOnce<T>(key: string, value: T): Promise<T> {
    try {
      await this.kv.create(key, JSON.stringify(value));
      return value;
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      const stored = await this.read<T>(key);
      if (stored === undefined) throw error;
      return stored;
    }
  }
}
