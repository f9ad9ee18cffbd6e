// The admin UI over plain HTTP, for what a browser test cannot show well: exact status codes,
// headers and cookies, forms posted without or with a wrong token, many sign-ins in a row.
export interface PageResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly html: string;
}

export const FORM = 'application/x-www-form-urlencoded';

export async function get(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<PageResponse> {
  const response = await fetch(baseUrl + path, { headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, html: await response.text() };
}

export async function post(baseUrl: string, path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<PageResponse> {
  const response = await fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': FORM, ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return { status: response.status, headers: response.headers, html: await response.text() };
}

/** `name=value` of a Set-Cookie header, to send back as Cookie. */
export function cookiePair(response: PageResponse, name: string): string {
  const header = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
  if (!header) throw new Error(`no ${name} cookie in the response`);
  return header.split(';')[0] as string;
}

export function setCookieHeader(response: PageResponse, name: string): string | undefined {
  return response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
}

/** The CSRF token of the first form on the page. */
export function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no CSRF field on the page');
  return token;
}

/** Signs in through the form, as a browser would: returns the session cookie pair. */
export async function signIn(baseUrl: string, username: string, password: string, headers: Record<string, string> = {}): Promise<string> {
  const page = await get(baseUrl, '/admin/login', headers);
  const formCookie = cookiePair(page, 'tollgate_sign_in');
  const answer = await post(baseUrl, '/admin/login', { csrf: csrfOf(page.html), username, password }, { ...headers, cookie: formCookie });
  if (answer.status !== 303) throw new Error(`sign-in answered ${answer.status}`);
  return cookiePair(answer, 'tollgate_session');
}
