import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

const SCRIPT = readFileSync(join(__dirname, '../../../docker/synapse-admin/phenom-admin-guard.js'), 'utf8');

/** Just enough DOM for the guard: elements with children, text, attributes and click listeners. */
class FakeElement {
  id = '';
  textContent = '';
  style = { cssText: '' };
  children: FakeElement[] = [];
  parentNode: FakeElement | null = null;
  attributes: Record<string, string> = {};
  listeners: Record<string, () => void> = {};
  constructor(readonly tagName: string) {}
  setAttribute(name: string, value: string) {
    this.attributes[name] = value;
  }
  appendChild(child: FakeElement) {
    child.parentNode = this;
    this.children.push(child);
    return child;
  }
  removeChild(child: FakeElement) {
    this.children = this.children.filter((c) => c !== child);
    child.parentNode = null;
  }
  addEventListener(type: string, fn: () => void) {
    this.listeners[type] = fn;
  }
  get text(): string {
    return this.textContent + this.children.map((c) => c.text).join('|');
  }
}

/** Loads the guard into a fresh page whose fetch answers from `answer`; returns the page. */
function page(answer: (url: string) => Response, userId: string | null = '@bob:chat.test') {
  const body = new FakeElement('body');
  const find = (el: FakeElement, id: string): FakeElement | null => (el.id === id ? el : (el.children.map((c) => find(c, id)).find(Boolean) ?? null));
  const calls: Array<{ url: string; init?: RequestInit }> = [];
  let reloaded = false;
  const window = {
    location: { href: 'https://chat.example.com/chat-admin/#/users', reload: () => (reloaded = true) },
    localStorage: { getItem: (k: string) => (k === 'user_id' ? userId : null) },
    fetch: async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      return answer(url);
    },
  };
  const document = { body, documentElement: body, createElement: (tag: string) => new FakeElement(tag), getElementById: (id: string) => find(body, id) };
  runInNewContext(SCRIPT, { window, document, URL, JSON });
  const banner = () => document.getElementById('phenom-admin-guard');
  /** Calls the wrapped fetch as the app does, then lets the guard read its copy of the body. */
  const appFetch = async (url: string, token = true) => {
    const res: Response = await window.fetch(url, token ? { headers: new Headers({ Authorization: 'Bearer syt_x' }) } : {});
    await new Promise((r) => setTimeout(r, 10));
    return res;
  };
  return { appFetch, banner, calls, reloaded: () => reloaded };
}

const json = (status: number, body: object) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('docker/synapse-admin/phenom-admin-guard.js', () => {
  it("explains Synapse's 403 for a non-admin: who is signed in, and that chat-admin grants the Admin UI", async () => {
    const p = page(() => json(403, { errcode: 'M_FORBIDDEN', error: 'You are not a server admin' }));
    const res = await p.appFetch('/_synapse/admin/v2/users?from=0&limit=10');
    // the app still sees the original answer (and logs out as before)
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ errcode: 'M_FORBIDDEN', error: 'You are not a server admin' });
    expect(p.banner()?.attributes.role).toBe('alert');
    expect(p.banner()?.text).toMatch(/^@bob:chat\.test is signed in, but is not a Synapse server admin\. Server admin comes with the Cognito group chat-admin/);
  });

  it("shows the server's reason for any other 403 (e.g. the ALB's address allow-list)", async () => {
    const p = page(() => json(403, { errcode: 'M_FORBIDDEN', error: 'The Synapse admin API is not reachable from this address (synapse.adminApiAllowedCidrs)' }));
    await p.appFetch('https://chat.example.com/_synapse/admin/v1/server_version', false);
    expect(p.banner()?.text).toMatch(/^The Synapse admin API refused this request: The Synapse admin API is not reachable from this address \(synapse\.adminApiAllowedCidrs\)\./);
  });

  it("turns the ALB's 401 (session ended, not Matrix JSON) into a reload prompt", async () => {
    const p = page(() => new Response('<html><body><center><h1>401 Authorization Required</h1></center></body></html>', { status: 401, headers: { 'content-type': 'text/html' } }));
    await p.appFetch('/_synapse/admin/v2/rooms');
    expect(p.banner()?.text).toMatch(/^Your Phenom sign-in for the Admin UI has ended\. Reload the page to sign in again\.\|Reload\|×$/);
    const reload = p.banner()!.children.find((c) => c.textContent === 'Reload')!;
    reload.listeners.click();
    expect(p.reloaded()).toBe(true);
  });

  it("names Matrix's 401 as the end of the Synapse session", async () => {
    const p = page(() => json(401, { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.' }));
    await p.appFetch('/_synapse/admin/v2/users');
    expect(p.banner()?.text).toMatch(/^Your Synapse session has ended \(Invalid access token passed\.\)\. Sign in again\./);
  });

  it('leaves other paths and other statuses alone, and the requests unchanged', async () => {
    const p = page((url) => (url.includes('login') ? json(403, { errcode: 'M_FORBIDDEN', error: 'Invalid password' }) : json(500, { errcode: 'M_UNKNOWN', error: 'boom' })));
    await p.appFetch('/_matrix/client/r0/login', false);
    await p.appFetch('/_synapse/admin/v2/users');
    expect(p.banner()).toBeNull();
    expect(p.calls.map((c) => c.url)).toEqual(['/_matrix/client/r0/login', '/_synapse/admin/v2/users']);
  });

  it('clears the banner once an authenticated admin call succeeds, but not on the unauthenticated server_version', async () => {
    let status = 403;
    const p = page(() => (status === 403 ? json(403, { errcode: 'M_FORBIDDEN', error: 'You are not a server admin' }) : json(200, { server_version: '1.142.0' })));
    await p.appFetch('/_synapse/admin/v2/users');
    status = 200;
    await p.appFetch('/_synapse/admin/v1/server_version', false);
    expect(p.banner()).not.toBeNull();
    await p.appFetch('/_synapse/admin/v2/users');
    expect(p.banner()).toBeNull();
  });

  it('can be dismissed', async () => {
    const p = page(() => json(403, { errcode: 'M_FORBIDDEN', error: 'You are not a server admin' }), null);
    await p.appFetch('/_synapse/admin/v2/users');
    expect(p.banner()?.text).toMatch(/^This account is signed in, but is not a Synapse server admin/);
    p.banner()!
      .children.find((c) => c.attributes['aria-label'] === 'Dismiss')!
      .listeners.click();
    expect(p.banner()).toBeNull();
  });
});
