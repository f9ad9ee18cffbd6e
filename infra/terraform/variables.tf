# --- Oracle Cloud account ----------------------------------------------------------------------

variable "tenancy_ocid" {
  description = "OCID of the tenancy (OCI console: Profile → Tenancy)."
  type        = string
  validation {
    condition     = can(regex("^ocid1\\.tenancy\\.", var.tenancy_ocid))
    error_message = "tenancy_ocid must be a tenancy OCID (ocid1.tenancy.…)."
  }
}

variable "compartment_ocid" {
  description = "OCID of the compartment to create everything in (the tenancy's OCID for the root compartment)."
  type        = string
  validation {
    condition     = can(regex("^ocid1\\.(compartment|tenancy)\\.", var.compartment_ocid))
    error_message = "compartment_ocid must be a compartment or tenancy OCID (ocid1.compartment.… or ocid1.tenancy.…)."
  }
}

variable "region" {
  description = "Region identifier, such as eu-frankfurt-1: your home region, where Always Free resources live."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+-[0-9]+$", var.region))
    error_message = "region must be a region identifier such as eu-frankfurt-1."
  }
}

variable "oci_config_profile" {
  description = "Profile of ~/.oci/config holding the API key Terraform signs its calls with."
  type        = string
  default     = "DEFAULT"
}

variable "availability_domain_number" {
  description = "Which availability domain of the region (1, 2 or 3) gets the VM; try another when Ampere capacity runs out."
  type        = number
  default     = 1
  validation {
    condition     = contains([1, 2, 3], var.availability_domain_number)
    error_message = "availability_domain_number must be 1, 2 or 3."
  }
}

variable "name" {
  description = "Name of the VM and prefix of every resource's display name."
  type        = string
  default     = "tollgate"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}$", var.name))
    error_message = "name must be 1 to 15 lower-case letters, digits or hyphens, starting with a letter (it is also the VM's host name)."
  }
}

# --- network -----------------------------------------------------------------------------------

variable "vcn_cidr" {
  description = "Address range of the virtual cloud network."
  type        = string
  default     = "10.42.0.0/16"
  validation {
    condition     = can(cidrhost(var.vcn_cidr, 0)) && tonumber(split("/", var.vcn_cidr)[1]) >= 16 && tonumber(split("/", var.vcn_cidr)[1]) <= 30
    error_message = "vcn_cidr must be an IPv4 CIDR block from /16 to /30."
  }
}

variable "subnet_cidr" {
  description = "Address range of the public subnet; must lie inside vcn_cidr."
  type        = string
  default     = "10.42.1.0/24"
  validation {
    # Inside: the subnet's first address, cut to the VCN's prefix length, is the VCN's own network.
    condition = can(cidrhost(var.subnet_cidr, 0)) && try(
      tonumber(split("/", var.subnet_cidr)[1]) >= tonumber(split("/", var.vcn_cidr)[1]) &&
      cidrhost(format("%s/%s", cidrhost(var.subnet_cidr, 0), split("/", var.vcn_cidr)[1]), 0) == cidrhost(var.vcn_cidr, 0),
      false,
    )
    error_message = "subnet_cidr must be an IPv4 CIDR block inside vcn_cidr."
  }
}

variable "ssh_allowed_cidr" {
  description = "The only addresses allowed to reach SSH (port 22), such as your office's 203.0.113.0/24 or your own address/32. HTTP and HTTPS are open to everyone."
  type        = string
  validation {
    condition     = can(cidrhost(var.ssh_allowed_cidr, 0)) && !endswith(var.ssh_allowed_cidr, "/0")
    error_message = "ssh_allowed_cidr must be an IPv4 CIDR block narrower than the whole internet (not …/0)."
  }
}

# --- the VM ------------------------------------------------------------------------------------

variable "instance_shape" {
  description = "Compute shape: a flexible one, VM.Standard.A1.Flex (Ampere, arm64) for Always Free."
  type        = string
  default     = "VM.Standard.A1.Flex"
  validation {
    condition     = endswith(var.instance_shape, ".Flex")
    error_message = "instance_shape must be a flexible shape (….Flex): OCPUs and memory are set by instance_ocpus and instance_memory_gb."
  }
}

variable "instance_ocpus" {
  description = "OCPUs of the VM. Always Free allows 4 Ampere OCPUs in all."
  type        = number
  default     = 2
  validation {
    condition     = var.instance_ocpus >= 1 && var.instance_ocpus <= 80 && floor(var.instance_ocpus) == var.instance_ocpus
    error_message = "instance_ocpus must be a whole number from 1 to 80."
  }
}

variable "instance_memory_gb" {
  description = "Memory of the VM in GB, at most 64 per OCPU. Always Free allows 24 GB of Ampere memory in all."
  type        = number
  default     = 12
  validation {
    condition     = var.instance_memory_gb >= 1 && var.instance_memory_gb <= 64 * var.instance_ocpus
    error_message = "instance_memory_gb must be from 1 to 64 GB per OCPU."
  }
}

variable "image_ocid" {
  description = "OCID of the boot image; null picks the newest Canonical Ubuntu 24.04 image for the shape."
  type        = string
  default     = null
  validation {
    condition     = var.image_ocid == null || can(regex("^ocid1\\.image\\.", var.image_ocid))
    error_message = "image_ocid must be null or an image OCID (ocid1.image.…)."
  }
}

variable "boot_volume_size_gb" {
  description = "Size of the boot volume in GB (the operating system only; the stack's data lives on the data volume)."
  type        = number
  default     = 50
  validation {
    condition     = var.boot_volume_size_gb >= 50 && var.boot_volume_size_gb <= 32768
    error_message = "boot_volume_size_gb must be from 50 to 32768."
  }
}

variable "data_volume_size_gb" {
  description = "Size in GB of the block volume holding PostgreSQL, Redis, Prometheus, Grafana and the certificates; it outlives the VM. Always Free allows 200 GB of block storage in all, boot volumes included."
  type        = number
  default     = 50
  validation {
    condition     = var.data_volume_size_gb >= 50 && var.data_volume_size_gb <= 32768
    error_message = "data_volume_size_gb must be from 50 to 32768."
  }
}

variable "data_volume_backups" {
  description = "Back the data volume up weekly, keeping four (Always Free allows five volume backups)."
  type        = bool
  default     = true
}

variable "ssh_public_key" {
  description = "Public key allowed to log in as ubuntu, in OpenSSH format."
  type        = string
  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$", trimspace(var.ssh_public_key)))
    error_message = "ssh_public_key must be one OpenSSH public key (ssh-ed25519 …, ssh-rsa … or ecdsa-sha2-… …)."
  }
}

# --- Tollgate ----------------------------------------------------------------------------------

variable "image_registry" {
  description = "Registry and owner of the Tollgate images, as the release workflow pushes them: ghcr.io/<GitHub owner>, in lower case."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$", var.image_registry))
    error_message = "image_registry must be a registry host and path in lower case, such as ghcr.io/your-org."
  }
}

variable "tollgate_version" {
  description = "Image tag to run: a release (1.4.2, 1.4) or edge (main's latest build)."
  type        = string
  validation {
    condition     = can(regex("^([0-9]+\\.[0-9]+(\\.[0-9]+)?(-[0-9A-Za-z.-]+)?|edge|latest)$", var.tollgate_version))
    error_message = "tollgate_version must be a release version such as 1.4.2, or edge, or latest."
  }
}

variable "gateway_upstream" {
  description = "URL of the API the gateways protect. The default is the stack's demo echo server."
  type        = string
  default     = "http://demo-upstream:3000"
  validation {
    condition     = can(regex("^https?://[^/\\s?#]+(/[^\\s?#]*)?$", var.gateway_upstream))
    error_message = "gateway_upstream must be an http:// or https:// URL without a query."
  }
}

variable "gateway_failure_mode" {
  description = "What the gateways do while Redis cannot answer: open (forward and count), closed (answer 503) or local (enforce a share of each limit in memory)."
  type        = string
  default     = "open"
  validation {
    condition     = contains(["open", "closed", "local"], var.gateway_failure_mode)
    error_message = "gateway_failure_mode must be open, closed or local."
  }
}

variable "log_level" {
  description = "Log level of the services: fatal, error, warn, info, debug, trace or silent."
  type        = string
  default     = "info"
  validation {
    condition     = contains(["fatal", "error", "warn", "info", "debug", "trace", "silent"], var.log_level)
    error_message = "log_level must be one of fatal, error, warn, info, debug, trace, silent."
  }
}

variable "request_log_retention_days" {
  description = "Request-log rows older than this many days are removed."
  type        = number
  default     = 30
  validation {
    condition     = var.request_log_retention_days >= 1 && var.request_log_retention_days <= 3650 && floor(var.request_log_retention_days) == var.request_log_retention_days
    error_message = "request_log_retention_days must be a whole number of days from 1 to 3650."
  }
}

variable "redis_maxmemory" {
  description = "Memory cap of Redis (it never evicts; past the cap the gateways' failure mode applies), such as 512mb or 2gb."
  type        = string
  default     = "1gb"
  validation {
    condition     = can(regex("^[0-9]+(mb|gb)$", var.redis_maxmemory))
    error_message = "redis_maxmemory must be a size such as 512mb or 2gb."
  }
}

variable "domain_name" {
  description = "DNS name that will point at the VM's public IP, for HTTPS with Let's Encrypt; empty for plain HTTP."
  type        = string
  default     = ""
  validation {
    condition     = var.domain_name == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,}$", var.domain_name))
    error_message = "domain_name must be empty or a lower-case DNS name such as api.example.com."
  }
}

variable "letsencrypt_email" {
  description = "Contact address Let's Encrypt writes to about expiring certificates; required with domain_name."
  type        = string
  default     = ""
  validation {
    condition     = var.domain_name == "" || can(regex("^[^@\\s']+@[^@\\s']+\\.[^@\\s']+$", var.letsencrypt_email))
    error_message = "letsencrypt_email must be an e-mail address when domain_name is set."
  }
}

# --- secrets: leave null to have Terraform generate them ----------------------------------------
# They reach the VM in its cloud-init user data and are kept in the Terraform state (keep the state
# private: see backend.tf.example); outputs show them only with `terraform output -raw NAME`.

variable "admin_token" {
  description = "Bearer token of the control plane's REST API; null generates one."
  type        = string
  default     = null
  sensitive   = true
  validation {
    condition     = var.admin_token == null || can(regex("^[A-Za-z0-9._~+/=-]{32,}$", var.admin_token))
    error_message = "admin_token must be at least 32 characters of letters, digits and ._~+/=-."
  }
}

variable "admin_user" {
  description = "User name of the first admin UI user."
  type        = string
  default     = "admin"
  validation {
    condition     = can(regex("^[A-Za-z0-9._@-]{1,64}$", var.admin_user))
    error_message = "admin_user must be 1 to 64 letters, digits or ._@-."
  }
}

variable "admin_password" {
  description = "Password of the first admin UI user; null generates one."
  type        = string
  default     = null
  sensitive   = true
  validation {
    condition     = var.admin_password == null || can(regex("^[^'\\n\\r\\\\]{12,}$", var.admin_password))
    error_message = "admin_password must be at least 12 characters, without quotes, backslashes or line breaks."
  }
}

variable "postgres_password" {
  description = "Password of the tollgate PostgreSQL user; null generates one."
  type        = string
  default     = null
  sensitive   = true
  validation {
    condition     = var.postgres_password == null || can(regex("^[A-Za-z0-9._~-]{16,}$", var.postgres_password))
    error_message = "postgres_password must be at least 16 letters, digits or ._~- (it goes into a database URL)."
  }
}

variable "grafana_admin_password" {
  description = "Password of Grafana's admin user; null generates one."
  type        = string
  default     = null
  sensitive   = true
  validation {
    condition     = var.grafana_admin_password == null || can(regex("^[^'\\n\\r\\\\]{12,}$", var.grafana_admin_password))
    error_message = "grafana_admin_password must be at least 12 characters, without quotes, backslashes or line breaks."
  }
}

variable "freeform_tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
