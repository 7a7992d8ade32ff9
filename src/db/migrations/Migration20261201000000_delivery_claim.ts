import { Migration } from '@mikro-orm/migrations';

/**
 * Who claimed a delivery last, and when: the claim writes them in the statement that already
 * marks it DELIVERING, so a job that comes back after its worker died can record the attempt
 * that was in flight as INTERRUPTED. Nullable, no default: adding them rewrites nothing, and a
 * delivery left DELIVERING before this migration is recovered as before (delivery/claim.ts).
 */
export class Migration20261201000000_delivery_claim extends Migration {
  override name = 'Migration20261201000000_delivery_claim';

  override up(): void | Promise<void> {
    this.addSql(`alter table "delivery" add column "claimed_at" timestamptz null, add column "claimed_by" uuid null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "delivery" drop column "claimed_at", drop column "claimed_by";`);
  }
}
