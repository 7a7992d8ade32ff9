import type { SourcePreset } from '../../db/entities/source.js';
import { adyen } from './adyen.js';
import { github } from './github.js';
import { genericHmac } from './hmac.js';
import type { Preset } from './preset.js';
import { shopify } from './shopify.js';
import { slack } from './slack.js';
import { standardWebhooks } from './standard-webhooks.js';
import { stripe } from './stripe.js';
import { twilio } from './twilio.js';

/** The presets this build verifies, one per provider. */
export const presets: Record<SourcePreset, Preset> = {
  GITHUB: github,
  HMAC: genericHmac,
  STRIPE: stripe,
  STANDARD_WEBHOOKS: standardWebhooks,
  SHOPIFY: shopify,
  ADYEN: adyen,
  SLACK: slack,
  TWILIO: twilio,
};
