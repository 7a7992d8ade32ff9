import { Migration } from '@mikro-orm/migrations';

/**
 * A relay's proxy URL carries the proxy's password: it is now sealed like the relay's other
 * secrets, and `proxy_url` keeps only what may be shown (the password masked). A migration
 * holds no key, so existing plaintext values are sealed by the first start that does (and by
 * `npm run reencrypt`); until then a delivery reads the plaintext column as before.
 */
export class Migration20261130200000_relay_proxy_url_sealed extends Migration {
  override name = 'Migration20261130200000_relay_proxy_url_sealed';

  override up(): void | Promise<void> {
    this.addSql(`alter table "relay" add column "proxy_url_sealed" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "relay" drop column "proxy_url_sealed";`);
  }
}
