import { Migration } from '@mikro-orm/migrations';

/**
 * `hookyard_notify(channel, entries)`: the one way Hookyard sends a NOTIFY, from TypeScript
 * (src/db/notify/send.ts) and from inside SQL statements (the delivery claim). Entries are
 * joined by `,` into as few payloads as fit under 7900 bytes (NOTIFY refuses 8000; the number
 * is MAX_NOTIFY_PAYLOAD_BYTES of src/db/notify/channels.ts), so a transaction that changes many
 * rows sends few notifications, and a large batch never fails on the server's size check. An
 * entry that alone exceeds the limit is refused with a message naming the channel.
 */
export class Migration20261202000000_notify_function extends Migration {
  override name = 'Migration20261202000000_notify_function';

  override up(): void | Promise<void> {
    this.addSql(`create function "hookyard_notify"(channel text, entries text[]) returns void language plpgsql as $$
      declare
        payload text;
        size int := 0;
        entry text;
        bytes int;
      begin
        foreach entry in array coalesce(entries, '{}') loop
          continue when entry is null;
          bytes := octet_length(entry);
          if bytes > 7900 then
            raise exception 'a % notification entry of % bytes exceeds 7900 bytes', channel, bytes using errcode = '22023';
          end if;
          if payload is not null and size + 1 + bytes > 7900 then
            perform pg_notify(channel, payload);
            payload := null;
          end if;
          if payload is null then
            payload := entry;
            size := bytes;
          else
            payload := payload || ',' || entry;
            size := size + 1 + bytes;
          end if;
        end loop;
        if payload is not null then
          perform pg_notify(channel, payload);
        end if;
      end $$;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop function "hookyard_notify"(text, text[]);`);
  }
}
