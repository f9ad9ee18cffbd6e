// The few control-plane REST calls the bench needs (/openapi.json describes them), over fetch with the admin token.

export class AdminApiError extends Error {
  readonly code = 'BENCH_ADMIN_API';
  constructor(
    message: string,
    /** The HTTP status the control plane answered. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export interface CreatedKey {
  readonly id: string;
  readonly secret: string;
}

export interface BenchLimit {
  readonly window: string;
  readonly limit: number;
}

export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async call(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (response.status >= 300) {
      throw new AdminApiError(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`, response.status);
    }
    return { status: response.status, json };
  }

  async createTier(name: string, limits: readonly BenchLimit[]): Promise<void> {
    await this.call('POST', '/v1/tiers', { name, limits });
  }

  async createKey(name: string, tier: string): Promise<CreatedKey> {
    const { json } = await this.call('POST', '/v1/keys', { name, tier });
    const record = json as { id?: unknown; secret?: unknown } | null;
    if (typeof record?.id !== 'string' || typeof record.secret !== 'string') {
      throw new AdminApiError('POST /v1/keys answered without id and secret', 201);
    }
    return { id: record.id, secret: record.secret };
  }

  /** POST /v1/keys/batch (up to 1000 names): the keys in the order of `names`. */
  async createKeys(tier: string, names: readonly string[]): Promise<CreatedKey[]> {
    // A batch of 1000 on a busy 2-core machine may take seconds.
    const { json } = await this.call('POST', '/v1/keys/batch', { items: names.map((name) => ({ name, tier })) }, 120_000);
    const items = (json as { items?: unknown } | null)?.items;
    if (!Array.isArray(items) || items.length !== names.length) throw new AdminApiError('POST /v1/keys/batch answered without its items', 201);
    return items as CreatedKey[];
  }

  async setKeyActive(id: string, active: boolean): Promise<void> {
    await this.call('PATCH', `/v1/keys/${encodeURIComponent(id)}`, { active });
  }
}
