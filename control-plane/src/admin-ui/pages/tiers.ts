// /admin/tiers…: list, create, edit (limits, route limits, algorithm, mode, time zone, concurrency,
// description) and delete, all through the tier service (validation, audit row naming the
// signed-in user, publish to the gateways).
import type { AppServices } from '../../app.js';
import { ApiError } from '../../http/errors.js';
import type { Route } from '../../http/router.js';
import { parseOrThrow } from '../../http/validate.js';
import { createTierSchema, updateTierSchema, type Tier } from '../../tiers/schema.js';
import { FormError, gather, text, wholeNumberOrNull } from '../forms.js';
import {
  limitRowsFrom,
  limitRowsOf,
  parseLimitRows,
  parseRouteLimitRows,
  routeLimitRowsFrom,
  routeLimitRowsOf,
  rowErrorPath,
  type ParsedLimits,
  type ParsedRouteLimits,
} from '../limit-rows.js';
import type { PageKit, SignedInContext } from '../page-route.js';
import { html, redirect } from '../responses.js';
import type { FieldErrors } from '../views/components.js';
import { ConfirmView } from '../views/confirm-view.js';
import { EXTRA_LIMIT_ROWS } from '../views/limits-editor.js';
import { TierFormView, type TierForm } from '../views/tier-form-view.js';
import { TiersView } from '../views/tiers-view.js';
import { formErrors, formStatus } from './keys.js';

const NEW_TIER_ROWS = 3;

const NOTICES: Record<string, string> = {
  created: 'Tier created.',
  saved: 'Changes saved. Gateways apply them to every key of the tier within a second.',
  deleted: 'Tier deleted.',
};

const NEW_TIER_FORM: TierForm = {
  name: '',
  description: '',
  algorithm: 'sliding_window',
  mode: 'enforce',
  timezone: 'UTC',
  concurrency: '',
  limits: limitRowsFrom(null, NEW_TIER_ROWS),
  routeLimits: routeLimitRowsFrom(null, EXTRA_LIMIT_ROWS),
};

function formOf(tier: Tier): TierForm {
  return {
    name: tier.name,
    description: tier.description ?? '',
    algorithm: tier.algorithm,
    mode: tier.mode,
    timezone: tier.timezone,
    concurrency: tier.concurrency === null ? '' : String(tier.concurrency),
    limits: limitRowsFrom(tier.limits, EXTRA_LIMIT_ROWS),
    routeLimits: routeLimitRowsFrom(tier.route_limits, EXTRA_LIMIT_ROWS),
  };
}

function postedForm(form: URLSearchParams): TierForm {
  return {
    name: text(form, 'name'),
    description: text(form, 'description'),
    algorithm: text(form, 'algorithm'),
    mode: text(form, 'mode'),
    timezone: text(form, 'timezone'),
    concurrency: text(form, 'concurrency'),
    limits: limitRowsOf(form),
    routeLimits: routeLimitRowsOf(form),
  };
}

/** The tier's fields as the services take them, from the posted form, before the schema checks them. */
interface TierInput {
  readonly fields: Record<string, unknown>;
  /** Maps the services' error paths back onto the rows typed in. */
  readonly formPath: (path: string) => string;
}

/** Reads every field a form alone can judge (numbers, half-filled rows); one FormError lists all their problems. */
function tierInput(form: TierForm): TierInput {
  const errors: Record<string, string> = {};
  const limits: ParsedLimits | undefined = gather(errors, () => parseLimitRows(form.limits));
  const routes: ParsedRouteLimits | undefined = gather(errors, () => parseRouteLimitRows(form.routeLimits));
  const concurrency = gather(errors, () => wholeNumberOrNull(form.concurrency, 'concurrency'));
  if (Object.keys(errors).length > 0) throw new FormError(errors);
  return {
    formPath: (path) => rowErrorPath(path, limits ?? null, routes ?? null),
    fields: {
      description: form.description === '' ? null : form.description,
      algorithm: form.algorithm,
      // The select always sends one; a post without it keeps the tier's (or the default).
      mode: form.mode === '' ? undefined : form.mode,
      // An emptied field means the default, as it does for a new tier.
      timezone: form.timezone === '' ? 'UTC' : form.timezone,
      concurrency,
      limits: limits?.limits,
      route_limits: routes?.routeLimits ?? null,
    },
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

    kit.signedInPage('GET', '/admin/tiers/_new', async (context) => formPage(context, 200, null, NEW_TIER_FORM, {})),

    kit.signedInPage('POST', '/admin/tiers', async (context) => {
      const form = postedForm(context.form);
      let formPath = (path: string) => path;
      try {
        const input = tierInput(form);
        formPath = input.formPath;
        const tier = await services.tiers.create(parseOrThrow(createTierSchema, { name: form.name, ...input.fields }), context.session.username);
        return redirect(`${tierPath(tier.name)}?done=created`);
      } catch (error) {
        const errors = error instanceof ApiError && error.code === 'tier-exists' ? { name: 'is already the name of a tier' } : formErrors(error, formPath);
        if (!errors) throw error;
        return formPage(context, formStatus(error), null, form, errors);
      }
    }),

    kit.signedInPage('GET', '/admin/tiers/{name}', async (context) => {
      const tier = await services.tiers.get(context.params.name ?? '');
      return formPage(context, 200, tier, formOf(tier), {});
    }),

    kit.signedInPage('POST', '/admin/tiers/{name}', async (context) => {
      const tier = await services.tiers.get(context.params.name ?? '');
      const form = { ...postedForm(context.form), name: tier.name };
      let formPath = (path: string) => path;
      try {
        const input = tierInput(form);
        formPath = input.formPath;
        await services.tiers.update(tier.name, parseOrThrow(updateTierSchema, input.fields), context.session.username);
        return redirect(`${tierPath(tier.name)}?done=saved`);
      } catch (error) {
        const errors = formErrors(error, formPath);
        if (!errors) throw error;
        return formPage(context, formStatus(error), tier, form, errors);
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
