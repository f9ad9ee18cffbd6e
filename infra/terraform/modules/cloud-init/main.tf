# The VM's cloud-config: mount the data volume, install Docker, write the compose stack from this
# repository plus its .env, and start it with a systemd unit (so it comes back after a reboot).
# Built with yamlencode, not a text template: file contents and secrets need no escaping.

locals {
  stack_dir = "/opt/tollgate"

  # The stack exactly as the repository has it; compose.yaml finds the rest through `..`.
  stack_files = sort(flatten([
    for pattern in ["compose/compose*.yaml", "nginx/**", "observability/prometheus.yml", "observability/rules/*.yml", "observability/grafana/**"] :
    fileset(var.repository_root, pattern)
  ]))

  # The services compose.yaml builds from the Dockerfile run the released images here instead.
  images = {
    "control-plane" = "${var.image_registry}/tollgate-control-plane:${var.tollgate_version}"
    "migrate"       = "${var.image_registry}/tollgate-control-plane:${var.tollgate_version}"
    "demo-upstream" = "${var.image_registry}/tollgate-control-plane:${var.tollgate_version}"
    "gateway-1"     = "${var.image_registry}/tollgate-gateway:${var.tollgate_version}"
    "gateway-2"     = "${var.image_registry}/tollgate-gateway:${var.tollgate_version}"
  }
  gateway_services = ["gateway-1", "gateway-2"]

  compose_override = join("", [
    "# Written by cloud-init (infra/terraform): released images instead of local builds, and the\n",
    "# API the gateways protect.\n",
    yamlencode({
      services = {
        for service, image in local.images : service => merge(
          { image = image },
          contains(local.gateway_services, service) ? { environment = { GATEWAY_UPSTREAM = var.gateway_upstream } } : {},
        )
      }
    }),
  ])

  compose_files = join(":", ["compose.yaml", "compose.oci.yaml"])

  # Single quotes: docker compose takes the value literally (no $ interpolation). The root module's
  # validation keeps quotes and line breaks out of every value.
  env_file = join("", [
    for name, value in merge(var.settings, var.secrets, {
      COMPOSE_PROJECT_NAME = "tollgate"
      COMPOSE_FILE         = local.compose_files
      TLS_CERT_DIR         = "/var/lib/tollgate/tls"
    }) : "${name}='${value}'\n"
  ])

  tls_env = var.domain_name == "" ? "" : "DOMAIN='${var.domain_name}'\nEMAIL='${var.letsencrypt_email}'\n"

  write_files = concat(
    [for file in local.stack_files : {
      path        = "${local.stack_dir}/${file}"
      content     = file("${var.repository_root}/${file}")
      permissions = "0644"
    }],
    [
      { path = "${local.stack_dir}/compose/compose.oci.yaml", content = local.compose_override, permissions = "0644" },
      { path = "${local.stack_dir}/compose/.env", content = local.env_file, permissions = "0600" },
      { path = "/etc/tollgate/tls.env", content = local.tls_env, permissions = "0644" },
      { path = "/etc/docker/daemon.json", content = file("${path.module}/files/daemon.json"), permissions = "0644" },
      { path = "/etc/systemd/system/docker.service.d/tollgate-data.conf", content = file("${path.module}/files/docker-data.conf"), permissions = "0644" },
      { path = "/etc/systemd/system/tollgate.service", content = file("${path.module}/files/tollgate.service"), permissions = "0644" },
      { path = "/usr/local/sbin/tollgate-prepare-data", content = file("${path.module}/files/prepare-data.sh"), permissions = "0755" },
      { path = "/usr/local/sbin/tollgate-open-firewall", content = file("${path.module}/files/open-firewall.sh"), permissions = "0755" },
      { path = "/usr/local/sbin/tollgate-enable-tls", content = file("${path.module}/files/enable-tls.sh"), permissions = "0755" },
    ],
  )

  cloud_config = {
    package_update = true
    packages       = ["certbot"]
    write_files    = local.write_files
    # In this order: Docker is installed only once its data directory is on the data volume.
    runcmd = concat(
      [
        ["/usr/local/sbin/tollgate-open-firewall"],
        ["/usr/local/sbin/tollgate-prepare-data"],
        ["sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io docker-compose-v2"],
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", "docker.service", "tollgate.service"],
      ],
      # With a domain: a certificate now if DNS already points here; otherwise run the same command
      # once it does (docs/deployment.md).
      var.domain_name == "" ? [] : [["sh", "-c", "/usr/local/sbin/tollgate-enable-tls || echo 'tollgate: TLS not enabled yet; run tollgate-enable-tls once DNS points here'"]],
    )
  }
}
