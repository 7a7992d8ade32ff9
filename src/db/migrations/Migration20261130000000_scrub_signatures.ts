import { Migration } from '@mikro-orm/migrations';

/**
 * Sources may name headers to keep (`keep_headers`), and signatures and credentials stored before headers were kept by allow-list: removed from
 * events' headers (any name holding `signature` or `hmac`, a generic HMAC source's own
 * signature header, Authorization and cookies), and the attempt log's outbound
 * `webhook-signature` cut to `v1,…a1b2` per entry, as new rows are. Other headers stay, so
 * forwarding from old events is unchanged. Exported so a test can run it over planted rows.
 * (`jsonb_exists`, not `?`, which a query builder may take for a placeholder.)
 */
export const SCRUB_SIGNATURES_SQL = [
  `update "event" set "headers" = (
     select coalesce(jsonb_object_agg(key, value), '{}'::jsonb) from jsonb_each("headers")
     where key !~* '(signature|hmac)' and key not in ('authorization', 'proxy-authorization', 'cookie', 'set-cookie'))
   where exists (
     select 1 from jsonb_object_keys("headers") as k(key)
     where key ~* '(signature|hmac)' or key in ('authorization', 'proxy-authorization', 'cookie', 'set-cookie'));`,
  `update "event" as e set "headers" = e."headers" - lower(s."signature_header")
   from "source" as s where s."id" = e."source_id" and s."signature_header" is not null and jsonb_exists(e."headers", lower(s."signature_header"));`,
  `update "attempt" set "request_headers" = jsonb_set("request_headers", '{webhook-signature}',
     to_jsonb(regexp_replace("request_headers"->>'webhook-signature', '([a-z0-9]+,)[A-Za-z0-9+/=]*([A-Za-z0-9+/=]{4})', '\\1…\\2', 'g')))
   where jsonb_exists("request_headers", 'webhook-signature') and position('…' in "request_headers"->>'webhook-signature') = 0;`,
];

export class Migration20261130000000_scrub_signatures extends Migration {
  override name = 'Migration20261130000000_scrub_signatures';

  override up(): void | Promise<void> {
    // Headers a source asks to keep besides its preset's allow-list.
    this.addSql(`alter table "source" add column "keep_headers" jsonb null;`);
    for (const sql of SCRUB_SIGNATURES_SQL) this.addSql(sql);
  }

  // What was scrubbed is gone: only the column goes back.
  override down(): void | Promise<void> {
    this.addSql(`alter table "source" drop column "keep_headers";`);
  }
}
