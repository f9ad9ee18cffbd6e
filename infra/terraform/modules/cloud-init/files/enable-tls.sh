#!/bin/sh
# Switches the stack to HTTPS with a Let's Encrypt certificate for the domain in
# /etc/tollgate/tls.env. Run it once DNS points at this VM; running it again is harmless.
# certbot's standalone check needs port 80, so nginx stops for those few seconds, at the first
# certificate and at every renewal (certbot.timer, twice a day; a renewal is due every ~60 days).
set -eu

# shellcheck source=/dev/null
. /etc/tollgate/tls.env
compose_dir=/opt/tollgate/compose
cert_dir=/var/lib/tollgate/tls
hook=/etc/letsencrypt/renewal-hooks/deploy/tollgate

if [ ! -e "/etc/letsencrypt/live/$DOMAIN/fullchain.pem" ]; then
  certbot certonly --standalone --non-interactive --agree-tos --email "$EMAIL" -d "$DOMAIN" \
    --pre-hook "docker compose --project-directory $compose_dir stop nginx" \
    --post-hook "docker compose --project-directory $compose_dir start nginx"
fi

# After every renewal: copy the files (nginx's container cannot follow certbot's symlinks into
# /etc/letsencrypt/archive); the post-hook then starts nginx with them.
mkdir -p "$(dirname "$hook")"
cat >"$hook" <<HOOK
#!/bin/sh
set -eu
install -m 0644 /etc/letsencrypt/live/$DOMAIN/fullchain.pem $cert_dir/fullchain.pem
install -m 0600 /etc/letsencrypt/live/$DOMAIN/privkey.pem $cert_dir/privkey.pem
HOOK
chmod 0755 "$hook"
"$hook"

if ! grep -q 'compose.tls.yaml' "$compose_dir/.env"; then
  sed -i "s|^COMPOSE_FILE='\\(.*\\)'\$|COMPOSE_FILE='\\1:compose.tls.yaml'|" "$compose_dir/.env"
fi
systemctl reload tollgate.service
echo "tollgate: HTTPS on https://$DOMAIN/"
