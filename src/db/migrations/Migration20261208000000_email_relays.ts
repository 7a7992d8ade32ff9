import { Migration } from '@mikro-orm/migrations';

/**
 * Email relays (delivery/destinations/email.ts). `kind` says which destination a relay's
 * deliveries go to: `HTTP` (every existing relay, by the constant default) or `EMAIL`, whose
 * SMTP server, sender, recipients and subject template live in the columns below; the SMTP
 * password is sealed like the relay's other secrets (`_sealed`: `npm run reencrypt` finds it
 * by its suffix). An EMAIL relay's `url` holds `smtp://host:port` (`smtps://` for implicit
 * TLS), derived from its settings, so every reader of `url` keeps working. Nullable columns and
 * a constant default rewrite nothing.
 */
export class Migration20261208000000_email_relays extends Migration {
  override name = 'Migration20261208000000_email_relays';

  override up(): void | Promise<void> {
    this.addSql(`alter table "relay"
      add column "kind" text not null default 'HTTP',
      add column "smtp_host" text null,
      add column "smtp_port" int null,
      add column "smtp_tls" text null,
      add column "smtp_user" text null,
      add column "smtp_password_sealed" text null,
      add column "email_from" text null,
      add column "email_to" jsonb null,
      add column "email_subject" text null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "relay" drop column "kind", drop column "smtp_host", drop column "smtp_port", drop column "smtp_tls",
      drop column "smtp_user", drop column "smtp_password_sealed", drop column "email_from", drop column "email_to", drop column "email_subject";`);
  }
}
