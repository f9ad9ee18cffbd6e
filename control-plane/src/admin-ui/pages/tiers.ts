// /admin/tiers…: list, create, edit (limits, algorithm, description) and delete, all through the
// tier service (validation, audit row naming the signed-in user, publish to the gateways).
import type { AppServices } from '../../app.js';
import { ApiError } from '../../http/errors.js';
import type { Route } from '../../http/router.js';
import { parseOrThrow } from '../../http/validate.js';
import { createTierSchema, updateTierSchema, type Tier } from '../../tiers/schema.js';
import { limitRowsFrom, limitRowsOf, parseLimitRows, text } from '../forms.js';
import type { PageKit, SignedInContext } from '../page-route.js';
import { html, redirect } from '../responses.js';
import type { FieldErrors } from '../views/components.js';
import { ConfirmView } from '../views/confirm-view.js';
import { EXTRA_LIMIT_ROWS } from '../views/limits-editor.js';
import { TierFormView, type TierForm } from '../views/tier-form-view.js';
import { TiersView } from '../views/tiers-view.js';
import { formErrors } from './keys.js';

const NEW_TIER_ROWS = 3;

const NOTICES: Record<string, string> = {
  created: 'Tier created.',
  saved: 'Changes saved. Gateways apply them to every key of the tier within a second.',
  deleted: 'Tier deleted.',
};

function formOf(tier: Tier): TierForm {
  return {
    name: tier.name,
    description: tier.description ?? '',
    algorithm: tier.algorithm,
    limits: limitRowsFrom(tier.limits, EXTRA_LIMIT_ROWS),
  };
}

function postedForm(form: URLSearchParams): TierForm {
  return {
    name: text(form, 'name'),
    description: text(form, 'description'),
    algorithm: text(form, 'algorithm'),
    limits: limitRowsOf(form),
  };
}

export function tierRoutes({ kit, services }: { readonly kit: PageKit; readonly services: AppServices }): Route[] {
  const tierPath = (name: string) => `/admin/tiers/${encodeURIComponent(name)}`;

  function formPage(context: SignedInContext, status: number, tier: Tier | null, form: TierForm, errors: FieldErrors, deleteError: string | null = null) {
    const notice = status === 200 ? (NOTICES[context.query.get('done') ?? ''] ?? null) : null;
    return html(status, TierFormView({ viewer: context.viewer, tier, form, errors, notice, deleteError }));
  }

  return [
    kit.signedInPage('GET', '/admin/tiers', async (context) => {
      const notice = NOTICES[context.query.get('done') ?? ''] ?? null;
      return html(200, TiersView({ viewer: context.viewer, tiers: await services.tiers.list(), notice }));
    }),

    kit.signedInPage('GET', '/admin/tiers/_new', async (context) =>
      formPage(context, 200, null, { name: '', description: '', algorithm: 'sliding_window', limits: limitRowsFrom(null, NEW_TIER_ROWS) }, {}),
    ),

    kit.signedInPage('POST', '/admin/tiers', async (context) => {
      const form = postedForm(context.form);
      let rowOf: readonly number[] = [];
      try {
        const parsed = parseLimitRows(form.limits);
        rowOf = parsed.rowOf;
        const input = parseOrThrow(createTierSchema, {
          name: form.name,
          description: form.description === '' ? null : form.description,
          algorithm: form.algorithm,
          limits: parsed.limits,
        });
        const tier = await services.tiers.create(input, context.session.username);
        return redirect(`${tierPath(tier.name)}?done=created`);
      } catch (error) {
        const errors = error instanceof ApiError && error.code === 'tier-exists' ? { name: 'is already the name of a tier' } : formErrors(error, rowOf);
        if (!errors) throw error;
        return formPage(context, 400, null, form, errors);
      }
    }),

    kit.signedInPage('GET', '/admin/tiers/{name}', async (context) => {
      const tier = await services.tiers.get(context.params.name ?? '');
      return formPage(context, 200, tier, formOf(tier), {});
    }),

    kit.signedInPage('POST', '/admin/tiers/{name}', async (context) => {
      const tier = await services.tiers.get(context.params.name ?? '');
      const form = { ...postedForm(context.form), name: tier.name };
      let rowOf: readonly number[] = [];
      try {
        const parsed = parseLimitRows(form.limits);
        rowOf = parsed.rowOf;
        const changes = parseOrThrow(updateTierSchema, {
          description: form.description === '' ? null : form.description,
          algorithm: form.algorithm,
          limits: parsed.limits,
        });
        await services.tiers.update(tier.name, changes, context.session.username);
        return redirect(`${tierPath(tier.name)}?done=saved`);
      } catch (error) {
        const errors = formErrors(error, rowOf);
        if (!errors) throw error;
        return formPage(context, 400, tier, form, errors);
      }
    }),

    kit.signedInPage('GET', '/admin/tiers/{name}/delete', async (context) => {
      const tier = await services.tiers.get(context.params.name ?? '');
      return html(
        200,
        ConfirmView({
          viewer: context.viewer,
          section: 'tiers',
          title: `Delete tier “${tier.name}”?`,
          explanation: 'Gateways forget the tier at once. This cannot be undone; the audit log keeps its history.',
          action: `${tierPath(tier.name)}/delete`,
          confirmLabel: 'Delete tier',
          cancelHref: tierPath(tier.name),
          danger: true,
        }),
      );
    }),

    kit.signedInPage('POST', '/admin/tiers/{name}/delete', async (context) => {
      const name = context.params.name ?? '';
      try {
        await services.tiers.remove(name, context.session.username);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'tier-in-use')) throw error;
        const tier = await services.tiers.get(name);
        const message = `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}. Move those keys to another tier first (revoked keys count too: they keep their tier for the record).`;
        return formPage(context, 409, tier, formOf(tier), {}, message);
      }
      return redirect('/admin/tiers?done=deleted');
    }),
  ];
}
