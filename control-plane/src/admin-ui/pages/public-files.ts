// GET /docs (the API reference page) and the static files of the admin UI and the reference. None
// needs a session: the sign-in page needs the stylesheet, and reading the reference needs no token
// (calling the API from it does).
import { NotFoundError } from '../../http/errors.js';
import type { Route } from '../../http/router.js';
import type { PageKit } from '../page-route.js';
import { securityHeaders } from '../responses.js';
import { staticReply } from '../static-files.js';
import { renderDocsPage } from '../views/docs-view.js';

export function publicFileRoutes({ kit }: { readonly kit: PageKit }): Route[] {
  const serve = (prefix: string) =>
    kit.publicPage('GET', `${prefix}/{file}`, async ({ params, request, query }) => {
      const reply = staticReply(`${prefix}/${params.file ?? ''}`, request, query);
      if (!reply) throw new NotFoundError('no such file');
      return reply;
    });
  return [
    kit.publicPage('GET', '/docs', async () => ({
      status: 200,
      raw: renderDocsPage(),
      contentType: 'text/html; charset=utf-8',
      headers: securityHeaders(),
    })),
    serve('/admin/static'),
    serve('/docs/static'),
  ];
}
