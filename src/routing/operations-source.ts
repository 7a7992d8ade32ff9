/**
 * The built-in source that Hookyard's own operational events (`delivery.dead`, `relay.failing`,
 * `relay.disabled`, `relay.recovered`, `source.rejecting`) come from. Its id is fixed, the same
 * in every installation, so an operator can subscribe to it without looking it up. Its slug is
 * outside the slug alphabet (`^[a-z0-9][a-z0-9-]{0,62}$`): no user source can take it, and the
 * ingest route refuses it before any I/O, so nothing from outside can post as Hookyard.
 */
export const OPERATIONS_SOURCE_ID = '00000000-0000-7000-8000-686f6f6b7961';
export const OPERATIONS_SOURCE_SLUG = '_hookyard';
