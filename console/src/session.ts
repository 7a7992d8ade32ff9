// The API token lives in this tab's session storage: gone when the tab closes, never sent by the
// browser on its own (no cookie), so no other site can make requests with it.
const KEY = 'hookyard.token';

export function savedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
