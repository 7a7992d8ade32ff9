import { readField } from '../field-spec.js';
import { header, type IngestRequest } from '../request.js';

/** A platform or management webhook signs its raw body in this header; a payments notification does not use it. */
export const PLATFORM_SIGNATURE_HEADER = 'hmacsignature';

/** One `NotificationRequestItem` of a payments notification, as parsed from the body. */
export type NotificationItem = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The items of a payments notification (`notificationItems[i].NotificationRequestItem`);
 * `undefined` when the body has no `notificationItems` array, `null` entries where an item
 * is not an object.
 */
export function notificationItems(request: IngestRequest): (NotificationItem | null)[] | undefined {
  const body = request.json();
  if (!isObject(body) || !Array.isArray(body.notificationItems)) return undefined;
  return body.notificationItems.map((entry: unknown) => (isObject(entry) && isObject(entry.NotificationRequestItem) ? entry.NotificationRequestItem : null));
}

/** A signed field as Adyen's library joins it: absent is empty, anything else its string form. */
export function fieldText(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

/**
 * The eight fields Adyen signs, `:`-joined with no escaping (an escaped form exists only for
 * flat string maps, which notifications are not). Fields outside the eight are unsigned.
 */
export function signedData(item: NotificationItem): string {
  const amount = isObject(item.amount) ? item.amount : {};
  return [
    item.pspReference, item.originalReference, item.merchantAccountCode, item.merchantReference,
    amount.value, amount.currency, item.eventCode, item.success,
  ].map(fieldText).join(':');
}

/**
 * The item without its `additionalData.hmacSignature`: signatures are never stored (a stored
 * one is a replayable one), and receivers verify Hookyard's own signature instead.
 */
function withoutSignature(item: NotificationItem): NotificationItem {
  if (!isObject(item.additionalData) || !('hmacSignature' in item.additionalData)) return item;
  const { hmacSignature: _dropped, ...additionalData } = item.additionalData;
  return { ...item, additionalData };
}

export interface AdyenEvent {
  type: string;
  idempotencyKey: string | null;
  body: Buffer;
}

/**
 * The events a verified Adyen request becomes. A notification yields one per item: type
 * `eventCode`, key `pspReference:eventCode:success` (Adyen resends an item with the same
 * three), body that item re-serialised without its signature, which is safe because Adyen
 * signs fields, not bytes. A platform webhook is one event: type `type`, no key, the raw body.
 */
export function splitAdyen(request: IngestRequest): AdyenEvent[] {
  if (header(request, PLATFORM_SIGNATURE_HEADER) !== undefined) {
    return [{ type: readField({ from: 'json', path: ['type'] }, request) || 'webhook', idempotencyKey: null, body: request.body }];
  }
  return (notificationItems(request) ?? []).flatMap((item) => {
    if (!item) return [];
    const eventCode = fieldText(item.eventCode);
    const pspReference = fieldText(item.pspReference);
    return [{
      type: eventCode || 'webhook',
      // Without a pspReference the key would collide across unrelated items: no key instead.
      idempotencyKey: pspReference ? `${pspReference}:${eventCode}:${fieldText(item.success)}`.slice(0, 500) : null,
      body: Buffer.from(JSON.stringify(withoutSignature(item))),
    }];
  });
}
