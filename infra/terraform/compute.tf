# One Ampere VM running the compose stack, a block volume for its data that outlives the VM, and
# a reserved public IP that stays the same when the VM is replaced.

data "oci_identity_availability_domains" "all" {
  compartment_id = var.tenancy_ocid
}

# The newest full (not Minimal) Canonical Ubuntu 24.04 image built for the shape (arm64 for A1).
data "oci_core_images" "ubuntu" {
  compartment_id           = var.compartment_ocid
  operating_system         = "Canonical Ubuntu"
  operating_system_version = "24.04"
  shape                    = var.instance_shape
  sort_by                  = "TIMECREATED"
  sort_order               = "DESC"

  filter {
    name   = "display_name"
    values = ["^Canonical-Ubuntu-24\\.04-(aarch64-)?[0-9]{4}\\."]
    regex  = true
  }
}

module "cloud_init" {
  source = "./modules/cloud-init"

  repository_root   = "${path.module}/../.."
  image_registry    = var.image_registry
  tollgate_version  = var.tollgate_version
  gateway_upstream  = var.gateway_upstream
  domain_name       = var.domain_name
  letsencrypt_email = var.letsencrypt_email
  settings = {
    ADMIN_USER                 = var.admin_user
    GRAFANA_ADMIN_USER         = "admin"
    GATEWAY_FAILURE_MODE       = var.gateway_failure_mode
    LOG_LEVEL                  = var.log_level
    REDIS_MAXMEMORY            = var.redis_maxmemory
    REQUEST_LOG_RETENTION_DAYS = tostring(var.request_log_retention_days)
    TOLLGATE_HTTP_PORT         = "80"
  }
  secrets = local.secrets
}

locals {
  availability_domain = data.oci_identity_availability_domains.all.availability_domains[var.availability_domain_number - 1].name
  user_data           = module.cloud_init.user_data
}

# cloud-init runs once per VM, so a changed cloud-config only takes effect on a new VM: this
# replaces the VM whenever it changes. The data volume and the public IP carry over.
resource "terraform_data" "cloud_config" {
  input = sha256(module.cloud_init.cloud_config)
}

resource "oci_core_instance" "tollgate" {
  availability_domain = local.availability_domain
  compartment_id      = var.compartment_ocid
  display_name        = var.name
  shape               = var.instance_shape
  freeform_tags       = local.tags

  shape_config {
    ocpus         = var.instance_ocpus
    memory_in_gbs = var.instance_memory_gb
  }

  source_details {
    source_type             = "image"
    source_id               = coalesce(var.image_ocid, data.oci_core_images.ubuntu.images[0].id)
    boot_volume_size_in_gbs = var.boot_volume_size_gb
  }

  create_vnic_details {
    subnet_id = oci_core_subnet.public.id
    # The reserved IP below is the VM's only public address.
    assign_public_ip = false
    hostname_label   = var.name
    display_name     = "${var.name}-vnic"
  }

  metadata = {
    ssh_authorized_keys = trimspace(var.ssh_public_key)
    user_data           = local.user_data
  }

  instance_options {
    are_legacy_imds_endpoints_disabled = true
  }

  lifecycle {
    # A newer Ubuntu image must not replace a running VM; upgrades happen inside it.
    ignore_changes       = [source_details[0].source_id]
    replace_triggered_by = [terraform_data.cloud_config]

    precondition {
      condition     = nonsensitive(length(local.user_data)) + length(var.ssh_public_key) <= 32000
      error_message = "The cloud-init user data and the SSH key exceed OCI's 32,000-byte metadata limit."
    }
  }
}

resource "oci_core_volume" "data" {
  availability_domain = local.availability_domain
  compartment_id      = var.compartment_ocid
  display_name        = "${var.name}-data"
  size_in_gbs         = var.data_volume_size_gb
  freeform_tags       = local.tags

  lifecycle {
    # PostgreSQL's data: `terraform destroy` stops here on purpose (docs/deployment.md says how to
    # remove it on purpose).
    prevent_destroy = true
  }
}

resource "oci_core_volume_attachment" "data" {
  attachment_type = "paravirtualized"
  instance_id     = oci_core_instance.tollgate.id
  volume_id       = oci_core_volume.data.id
  # The path the VM's tollgate-prepare-data waits for.
  device       = "/dev/oracleoci/oraclevdb"
  display_name = "${var.name}-data"
}

resource "oci_core_volume_backup_policy" "weekly" {
  count          = var.data_volume_backups ? 1 : 0
  compartment_id = var.compartment_ocid
  display_name   = "${var.name}-weekly"
  freeform_tags  = local.tags

  schedules {
    backup_type       = "INCREMENTAL"
    period            = "ONE_WEEK"
    day_of_week       = "SUNDAY"
    hour_of_day       = 3
    retention_seconds = 4 * 7 * 24 * 3600
    time_zone         = "UTC"
  }
}

resource "oci_core_volume_backup_policy_assignment" "data" {
  count     = var.data_volume_backups ? 1 : 0
  asset_id  = oci_core_volume.data.id
  policy_id = oci_core_volume_backup_policy.weekly[0].id
}

data "oci_core_vnic_attachments" "tollgate" {
  compartment_id = var.compartment_ocid
  instance_id    = oci_core_instance.tollgate.id
}

data "oci_core_private_ips" "tollgate" {
  vnic_id = data.oci_core_vnic_attachments.tollgate.vnic_attachments[0].vnic_id
}

resource "oci_core_public_ip" "tollgate" {
  compartment_id = var.compartment_ocid
  lifetime       = "RESERVED"
  display_name   = "${var.name}-public-ip"
  private_ip_id  = data.oci_core_private_ips.tollgate.private_ips[0].id
  freeform_tags  = local.tags
}

# Always Free covers 4 Ampere OCPUs, 24 GB of memory and 200 GB of block storage per tenancy: a
# warning (not an error) when this VM alone goes past them.
check "always_free_allowance" {
  assert {
    condition     = var.instance_ocpus <= 4 && var.instance_memory_gb <= 24 && var.boot_volume_size_gb + var.data_volume_size_gb <= 200
    error_message = "This VM exceeds the Always Free allowance (4 Ampere OCPUs, 24 GB, 200 GB of block storage): it will be billed."
  }
}
