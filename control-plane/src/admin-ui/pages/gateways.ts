// /admin/gateways: the fleet through the same service as GET /v1/gateways, and forgetting a stale
// gateway (DELETE /v1/gateways/{id}). A registry that cannot be read (Redis away) is a message on
// this page, not an error page: the rest of the admin UI works without it.
import type { Clock } from '../../clock.js';
import { gatewayParamsSchema, type GatewayItem } from '../../gateways/schema.js';
import { FleetUnavailableError, type GatewayService } from '../../gateways/service.js';
import { ConflictError, NotFoundError } from '../../http/errors.js';
import type { Route } from '../../http/router.js';
import { parseOrThrow } from '../../http/validate.js';
import type { PageKit, SignedInContext } from '../page-route.js';
import { html, redirect } from '../responses.js';
import { GatewaysView, type GatewaysNotice } from '../views/gateways-view.js';

const NOTICES: Record<string, GatewaysNotice> = {
  forgotten: { kind: 'success', title: 'Gateway forgotten.', message: 'If it is still running after all, its next heartbeat lists it again.' },
};

export function gatewayRoutes({ kit, gateways, clock }: { readonly kit: PageKit; readonly gateways: GatewayService; readonly clock: Clock }): Route[] {
  async function listPage(context: SignedInContext, status: number, notice: GatewaysNotice | null) {
    let items: GatewayItem[] | null;
    try {
      items = await gateways.list();
    } catch (error) {
      if (!(error instanceof FleetUnavailableError)) throw error;
      items = null;
    }
    return html(
      items === null && status === 200 ? 503 : status,
      GatewaysView({ viewer: context.viewer, now: clock(), gateways: items, notice }),
    );
  }

  return [
    kit.signedInPage('GET', '/admin/gateways', (context) =>
      listPage(context, 200, NOTICES[context.query.get('done') ?? ''] ?? null),
    ),

    kit.signedInPage('POST', '/admin/gateways/{id}/forget', async (context) => {
      const { id } = parseOrThrow(gatewayParamsSchema, context.params);
      try {
        await gateways.forget(id);
        return redirect('/admin/gateways?done=forgotten');
      } catch (error) {
        if (error instanceof ConflictError) {
          return listPage(context, 409, {
            kind: 'error',
            title: `Gateway ${id} is live: it was not forgotten.`,
            message: 'It sent a heartbeat in the last few seconds. Stop it instead; a gateway that stops removes itself from this list.',
          });
        }
        if (error instanceof NotFoundError) {
          return listPage(context, 404, {
            kind: 'error',
            title: `There is no gateway ${id}.`,
            message: 'It may have been forgotten already, or removed itself when it stopped.',
          });
        }
        if (error instanceof FleetUnavailableError) {
          return listPage(context, 503, { kind: 'error', title: `Gateway ${id} was not forgotten: the registry cannot be reached right now.` });
        }
        throw error;
      }
    }),
  ];
}
