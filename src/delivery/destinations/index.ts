import type { HttpSender } from '../http-sender.js';
import type { OpenedSecrets } from '../opened-secrets.js';
import type { Destinations } from './destination.js';
import { EmailDestination } from './email.js';
import { HttpDestination } from './http.js';

/** Every relay kind's destination, built once per process by the composition root. */
export function createDestinations(options: { sender: HttpSender; secrets: OpenedSecrets; userAgent: string; allowPrivate: boolean; dnsTimeoutMs?: number }): Destinations {
  return {
    HTTP: new HttpDestination(options.sender, options.secrets, options.userAgent),
    EMAIL: new EmailDestination({ secrets: options.secrets, resolve: options.sender.resolve, allowPrivate: options.allowPrivate, dnsTimeoutMs: options.dnsTimeoutMs }),
  };
}
