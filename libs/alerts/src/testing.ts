export { verifyStandardWebhook } from './test-support/standard-webhooks';
