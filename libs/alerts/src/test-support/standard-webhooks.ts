import { Webhook } from 'standardwebhooks';

/**
 * A receiver's check of a Standard Webhooks delivery, done with the `standardwebhooks` npm package
 * that receivers use (docs/usage-api.md shows it), not with Tally's signer: a delivery only passes
 * when an independent implementation of the specification accepts its `webhook-id`,
 * `webhook-timestamp` and `webhook-signature` headers for this body and secret.
 */
export function verifyStandardWebhook(
  secret: string,
  body: string,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') flat[name] = value;
  try {
    new Webhook(secret).verify(body, flat);
    return true;
  } catch {
    return false;
  }
}
