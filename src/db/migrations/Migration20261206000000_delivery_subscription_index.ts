import { Migration } from '@mikro-orm/migrations';

/**
 * `deliveries(filter: { subscriptionId })`, newest first: what one routing rule sent. Without
 * an index the page is a scan of every delivery and a sort (8,000 rows touched for a page of
 * 20 in test/integration/deliveries-by-subscription.test.ts), or a walk down (created_at, id)
 * past every newer delivery of other rules: a quiet rule beside a busy one reads them all.
 * With it, a page reads its own rows. The cost is one more entry per delivery write (no
 * delivery update is HOT, see Migration20261203050000): partial, so direct sends (test events,
 * alerts) take none. `subscription_id` has no foreign key, on purpose: a deleted rule's
 * deliveries keep its id, and the filter still finds its history.
 */
export class Migration20261206000000_delivery_subscription_index extends Migration {
  override name = 'Migration20261206000000_delivery_subscription_index';

  override up(): void | Promise<void> {
    this.addSql(`create index "delivery_subscription_created_at_id_index" on "delivery" ("subscription_id", "created_at", "id") where "subscription_id" is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index if exists "delivery_subscription_created_at_id_index";`);
  }
}
