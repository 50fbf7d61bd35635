import type { NatsNames } from './names';

/**
 * Who may do what on Tally's NATS server (docs/security.md#nats). Two kinds of users, all in the
 * server's global account (where the streams and buckets live):
 *
 * - the **services** user (gateway, writer, query, billing worker, the CLI): everything;
 * - one **ingest** user per tenant (what a customer's SDK connects with): it may only publish
 *   requests on its own ingress subjects and receive the replies on its own inboxes. It cannot
 *   publish to the events stream, call the JetStream API (`$JS.API.>`), touch a KV bucket
 *   (`$KV.>`), or subscribe to anything else: another tenant's invoices, alerts or replies included.
 *
 * A NATS user given an allow-list may do nothing else, so the ingest permissions are allow-lists
 * only. Per-tenant users in the configuration file (rather than JWT accounts or auth callout) keep
 * one file, one reload and no extra service; the cost is that adding a tenant's ingest user is an
 * edit and a `nats-server --signal reload`.
 */
export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
}

/** The reply subjects of a tenant's ingest client: it must connect with `inboxPrefix` set to this. */
export const ingestInboxPrefix = (tenant: string): string => `_INBOX_${tenant}`;

/**
 * True for a reply subject a requester may direct Tally's answer to: an inbox (`_INBOX.…` or a
 * tenant's `_INBOX_<tenant>.…`). The gateway answers nothing else, so a request cannot make it
 * publish, with the services' rights, onto a stream's subject.
 */
export const isInboxSubject = (subject: string | undefined): subject is string =>
  !!subject && /^_INBOX(_[a-z0-9][a-z0-9_-]*)?\.[^.]/.test(subject);

export function ingestPermissions(names: NatsNames, tenant: string): NatsPermissions {
  return {
    publish: { allow: [names.ingestSubject(tenant), names.pointsIngestSubject(tenant, '*')] },
    subscribe: { allow: [`${ingestInboxPrefix(tenant)}.>`] },
  };
}

/** A secret in the configuration file: the value itself, or `{ env }` for the server's environment variable. */
export type ConfSecret = string | { env: string };

export interface NatsAuthorization {
  names: NatsNames;
  services: { user: string; password: ConfSecret };
  ingest: Array<{ tenant: string; user: string; password: ConfSecret }>;
}

const quote = (s: string): string => JSON.stringify(s);
const secret = (s: ConfSecret): string => (typeof s === 'string' ? quote(s) : `$${s.env}`);
const list = (xs: string[]): string => `[${xs.map(quote).join(', ')}]`;

/** The name of a tenant's ingest user, by convention. */
export const ingestUserName = (tenant: string): string => `ingest-${tenant}`;

/** One entry of the `users` list for a tenant's ingest user, indented for `natsAuthorizationConf`. */
export function ingestUserEntry(names: NatsNames, user: { tenant: string; user: string; password: ConfSecret }): string {
  const p = ingestPermissions(names, user.tenant);
  return (
    `    { user: ${quote(user.user)}, password: ${secret(user.password)},\n` +
    `      permissions: { publish: { allow: ${list(p.publish.allow)} }, subscribe: { allow: ${list(p.subscribe.allow)} } } }`
  );
}

/** The `authorization { ... }` block of nats-server's configuration for these users. */
export function natsAuthorizationConf(auth: NatsAuthorization): string {
  const users = [`    { user: ${quote(auth.services.user)}, password: ${secret(auth.services.password)} }`];
  for (const u of auth.ingest) users.push(ingestUserEntry(auth.names, u));
  return `authorization {\n  users: [\n${users.join('\n')}\n  ]\n}\n`;
}
