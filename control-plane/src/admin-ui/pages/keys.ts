// /admin/keys…: list, create, the key's page, edit, rotate and revoke. Every change goes through
// the key service (validation, audit row naming the signed-in user, publish to the gateways).
import { z } from 'zod';
import type { AppServices } from '../../app.js';
import type { SessionService } from '../../admin-sessions/service.js';
import type { Clock } from '../../clock.js';
import { ApiError, UnprocessableError, ValidationError } from '../../http/errors.js';
import type { Route } from '../../http/router.js';
import { parseOrThrow } from '../../http/validate.js';
import { createKeySchema, listKeysQuerySchema, updateKeySchema, type ApiKey, type UpdateKey } from '../../keys/schema.js';
import { UsageUnavailableError, type UsageService } from '../../usage/service.js';
import { dateTimeInput, fieldErrorsOf, FormError, text, utcDateTime } from '../forms.js';
import { limitRowsFrom, limitRowsOf, parseLimitRows, rowErrorPath, type ParsedLimits } from '../limit-rows.js';
import type { PageKit, SignedInContext } from '../page-route.js';
import { html, redirect } from '../responses.js';
import type { FieldErrors } from '../views/components.js';
import { ConfirmView } from '../views/confirm-view.js';
import type { SecretFlash } from '../views/key-parts.js';
import { KeyView, type KeyEditForm } from '../views/key-view.js';
import { EXTRA_LIMIT_ROWS } from '../views/limits-editor.js';
import { KeysView, type KeyFilters, type NewKeyForm } from '../views/keys-view.js';

export const KEYS_PAGE_SIZE = 25;

const secretFlashSchema = z.strictObject({
  action: z.enum(['created', 'rotated']),
  keyId: z.string(),
  keyName: z.string(),
  secret: z.string(),
});

export interface KeyPageDeps {
  readonly kit: PageKit;
  readonly services: AppServices;
  readonly sessions: SessionService;
  readonly usage: UsageService;
  readonly clock: Clock;
}

export function keyRoutes({ kit, services, sessions, usage, clock }: KeyPageDeps): Route[] {
  async function takeSecretFlash(context: SignedInContext): Promise<SecretFlash | null> {
    const parsed = secretFlashSchema.safeParse(await sessions.takeFlash(context.session));
    return parsed.success ? parsed.data : null;
  }

  async function listPage(context: SignedInContext, status: number, form: NewKeyForm, errors: FieldErrors) {
    const raw: Record<string, string> = {};
    for (const name of ['tier', 'active', 'q', 'cursor']) {
      const value = context.query.get(name)?.trim();
      if (value) raw[name] = value;
    }
    const filters = parseOrThrow(listKeysQuerySchema, raw) as KeyFilters;
    const [tiers, page, flash] = await Promise.all([
      services.tiers.list(),
      services.keys.list({
        tier: filters.tier,
        active: filters.active === undefined ? undefined : filters.active === 'true',
        q: filters.q,
        cursor: filters.cursor,
        limit: KEYS_PAGE_SIZE,
      }),
      status === 200 ? takeSecretFlash(context) : Promise.resolve(null),
    ]);
    return html(
      status,
      KeysView({
        viewer: context.viewer,
        now: clock(),
        tiers,
        keys: page.items,
        nextCursor: page.next_cursor,
        filters,
        flash,
        form: { ...form, tier: form.tier || (tiers[0]?.name ?? '') },
        errors,
      }),
    );
  }

  async function keyPage(context: SignedInContext, id: string, status: number, edit: { form: KeyEditForm; errors: FieldErrors } | null) {
    const key = await services.keys.get(id);
    const [tiers, keyUsage, flash] = await Promise.all([
      services.tiers.list(),
      key.revoked_at === null
        ? usage.get(id).catch((error: unknown) => {
            if (error instanceof UsageUnavailableError) return null;
            throw error;
          })
        : Promise.resolve(null),
      status === 200 ? takeSecretFlash(context) : Promise.resolve(null),
    ]);
    const done = context.query.get('done');
    const notice = status !== 200 ? null : NOTICES[done ?? ''] ?? null;
    return html(
      status,
      KeyView({
        viewer: context.viewer,
        now: clock(),
        apiKey: key,
        tiers,
        usage: keyUsage,
        flash,
        notice,
        form: edit?.form ?? editFormOf(key),
        errors: edit?.errors ?? {},
      }),
    );
  }

  const keyPath = (id: string) => `/admin/keys/${encodeURIComponent(id)}`;

  return [
    kit.signedInPage('GET', '/admin/keys', (context) => listPage(context, 200, { name: '', tier: '', mode: '', expires: '' }, {})),

    kit.signedInPage('POST', '/admin/keys', async (context) => {
      const form: NewKeyForm = {
        name: text(context.form, 'name'),
        tier: text(context.form, 'tier'),
        mode: text(context.form, 'mode'),
        expires: text(context.form, 'expires'),
      };
      try {
        const input = parseOrThrow(createKeySchema, {
          name: form.name,
          tier: form.tier,
          // '' is the tier's mode: null, as on the key's page.
          mode: form.mode === '' ? null : form.mode,
          expires_at: utcDateTime(form.expires, 'expires_at'),
        });
        const created = await services.keys.create(input, context.session.username);
        await sessions.putFlash(context.session, { action: 'created', keyId: created.id, keyName: created.name, secret: created.secret } satisfies SecretFlash);
        return redirect('/admin/keys');
      } catch (error) {
        const errors = formErrors(error);
        if (!errors) throw error;
        return listPage(context, 400, form, errors);
      }
    }),

    kit.signedInPage('GET', '/admin/keys/{id}', (context) => keyPage(context, context.params.id ?? '', 200, null)),

    kit.signedInPage('POST', '/admin/keys/{id}', async (context) => {
      const id = context.params.id ?? '';
      const current = await services.keys.get(id);
      const form: KeyEditForm = {
        name: text(context.form, 'name'),
        tier: text(context.form, 'tier'),
        active: context.form.get('active') === 'on',
        expires: text(context.form, 'expires'),
        mode: text(context.form, 'mode'),
        limits: limitRowsOf(context.form),
      };
      let parsedLimits: ParsedLimits | null = null;
      try {
        parsedLimits = parseLimitRows(form.limits);
        const changes = changesOf(current, {
          name: form.name,
          tier: form.tier,
          active: form.active,
          expires_at: utcDateTime(form.expires, 'expires_at'),
          limits: parsedLimits.limits.length === 0 ? null : parsedLimits.limits,
          // '' is the tier's mode: null, as the API says it.
          mode: form.mode === '' ? null : form.mode,
        });
        if (Object.keys(changes).length === 0) return redirect(`${keyPath(id)}?done=unchanged`);
        await services.keys.update(id, parseOrThrow(updateKeySchema, changes), context.session.username);
        return redirect(`${keyPath(id)}?done=saved`);
      } catch (error) {
        const limits = parsedLimits;
        const errors = formErrors(error, (path) => rowErrorPath(path, limits, null));
        if (!errors) throw error;
        return keyPage(context, id, formStatus(error), { form: { ...form, limits: padRows(form.limits) }, errors });
      }
    }),

    kit.signedInPage('GET', '/admin/keys/{id}/rotate', (context) =>
      confirmStep(context, 'rotate', {
        title: (name) => `Rotate the secret of “${name}”?`,
        explanation: 'A new secret is made and shown once. The current secret stops working on every gateway at once, so clients using it get 401 until they switch.',
        confirmLabel: 'Rotate secret',
        danger: false,
      }),
    ),

    kit.signedInPage('POST', '/admin/keys/{id}/rotate', async (context) => {
      const rotated = await services.keys.rotate(context.params.id ?? '', context.session.username);
      await sessions.putFlash(context.session, { action: 'rotated', keyId: rotated.id, keyName: rotated.name, secret: rotated.secret } satisfies SecretFlash);
      return redirect(keyPath(rotated.id));
    }),

    kit.signedInPage('GET', '/admin/keys/{id}/revoke', (context) =>
      confirmStep(context, 'revoke', {
        title: (name) => `Revoke “${name}”?`,
        explanation: 'Its secret stops working on every gateway at once. This cannot be undone; the key stays in the list, marked revoked, with its history.',
        confirmLabel: 'Revoke key',
        danger: true,
      }),
    ),

    kit.signedInPage('POST', '/admin/keys/{id}/revoke', async (context) => {
      const id = context.params.id ?? '';
      await services.keys.revoke(id, context.session.username);
      return redirect(`${keyPath(id)}?done=revoked`);
    }),
  ];

  /** The page before an irreversible step on a key; a revoked key has nothing left to confirm. */
  async function confirmStep(context: SignedInContext, step: 'rotate' | 'revoke', text: ConfirmText) {
    const key = await services.keys.get(context.params.id ?? '');
    if (key.revoked_at !== null) throw new ApiError(409, 'key-revoked', `key ${key.name} is revoked`);
    return html(
      200,
      ConfirmView({
        viewer: context.viewer,
        section: 'keys',
        title: text.title(key.name),
        explanation: text.explanation,
        action: `${keyPath(key.id)}/${step}`,
        confirmLabel: text.confirmLabel,
        cancelHref: keyPath(key.id),
        danger: text.danger,
      }),
    );
  }
}

interface ConfirmText {
  readonly title: (keyName: string) => string;
  readonly explanation: string;
  readonly confirmLabel: string;
  readonly danger: boolean;
}

const NOTICES: Record<string, string> = {
  saved: 'Changes saved. Gateways apply them within a second.',
  unchanged: 'Nothing to save: the form matched the key.',
  revoked: 'Key revoked. Its secret no longer works on any gateway.',
};

function editFormOf(key: ApiKey): KeyEditForm {
  return {
    name: key.name,
    tier: key.tier,
    active: key.active,
    expires: dateTimeInput(key.expires_at),
    mode: key.mode ?? '',
    limits: limitRowsFrom(key.limits, EXTRA_LIMIT_ROWS),
  };
}

function padRows(rows: KeyEditForm['limits']): KeyEditForm['limits'] {
  return rows.length > 0 ? rows : limitRowsFrom(null, EXTRA_LIMIT_ROWS);
}

interface WantedKey {
  readonly name: string;
  readonly tier: string;
  readonly active: boolean;
  readonly expires_at: string | null;
  readonly limits: UpdateKey['limits'];
  /** Text as posted: the schema checks it. */
  readonly mode: string | null;
}

/** Only what differs from the key: an unchanged past expiry must not be re-checked as new. */
function changesOf(current: ApiKey, wanted: WantedKey): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  if (wanted.name !== current.name) changes.name = wanted.name;
  if (wanted.tier !== current.tier) changes.tier = wanted.tier;
  if (wanted.active !== current.active) changes.active = wanted.active;
  const currentExpiry = current.expires_at === null ? null : new Date(current.expires_at).getTime();
  const wantedExpiry = wanted.expires_at === null ? null : new Date(wanted.expires_at).getTime();
  // The form shows minutes: an expiry set through the API with seconds is unchanged if they match.
  if (currentExpiry === null || wantedExpiry === null ? currentExpiry !== wantedExpiry : Math.floor(currentExpiry / 60_000) !== Math.floor(wantedExpiry / 60_000)) {
    changes.expires_at = wanted.expires_at;
  }
  if (JSON.stringify(wanted.limits) !== JSON.stringify(current.limits)) changes.limits = wanted.limits;
  if (wanted.mode !== current.mode) changes.mode = wanted.mode;
  return changes;
}

/** Field errors for the errors a form can cause; undefined for anything else. */
export function formErrors(error: unknown, formPath?: (path: string) => string): FieldErrors | undefined {
  if (error instanceof FormError) return error.errors;
  if (error instanceof ValidationError) return fieldErrorsOf(error, formPath);
  if (error instanceof UnprocessableError && error.code === 'unknown-tier') return { tier: 'does not exist (it may have just been deleted)' };
  if (error instanceof ApiError && error.status === 409) return { form: error.message };
  return undefined;
}

/** The status of a page showing a refused form: 422 where the service found the policy does not fit, else 400. */
export function formStatus(error: unknown): number {
  return error instanceof ValidationError && error.status === 422 ? 422 : 400;
}
