/** `OK`, or the AppError code the call threw: one comparable value per table row. */
export function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** The body with one byte changed, for "a changed byte breaks the signature". */
export function flipLastByte(body: string): Buffer {
  const bytes = Buffer.from(body);
  bytes[bytes.length - 1] ^= 1;
  return bytes;
}
